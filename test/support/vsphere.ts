// Test access to the shared ground's vcsim through vmop's own vSphere client.
import { readFileSync } from 'node:fs';
import { VimClient, type ClientOptions } from '../../src/vsphere/client.js';
import { ground } from './ground.js';

export function vcsimBase(): string {
  return new URL(ground().vcsimURL).origin;
}

export function vcsimCA(): Buffer {
  return readFileSync(ground().caCert);
}

export function vimClient(opts: Partial<ClientOptions> = {}): Promise<VimClient> {
  const g = ground();
  return VimClient.connect({
    url: vcsimBase(),
    tls: { ca: vcsimCA() },
    credentials: { username: g.vcsimUser, password: g.vcsimPassword },
    keepAliveMs: 0,
    ...opts,
  });
}

/** vmop's vSphere client for a vcsim of a test's own (the ground's CA and credentials), every call reported. */
export function vimClientAt(url: string, onCall?: (method: string) => void): Promise<VimClient> {
  const g = ground();
  return VimClient.connect({
    url,
    tls: { ca: vcsimCA() },
    credentials: { username: g.vcsimUser, password: g.vcsimPassword },
    keepAliveMs: 0,
    onCall,
  });
}
