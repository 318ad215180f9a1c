// A vcsim of a test's own (for inventories the shared one should not have, or to restart it mid-test), with
// the ground's CA-signed certificate and credentials, so the usual test clients can reach it.
import path from 'node:path';
import { spawnVcsim, type VcsimProcess } from '../../src/devenv/vcsim.js';
import { ground } from './ground.js';

export function startOwnVcsim(flags: string[]): Promise<VcsimProcess> {
  const g = ground();
  const pki = path.dirname(g.caCert);
  return spawnVcsim({
    flags,
    credentials: { username: g.vcsimUser, password: g.vcsimPassword },
    tls: { cert: path.join(pki, 'vcsim.crt'), key: path.join(pki, 'vcsim.key') },
  });
}
