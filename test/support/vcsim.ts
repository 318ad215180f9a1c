// A vcsim of a test's own (for inventories the shared one should not have, or to restart it mid-test),
// started from the ground's binary with the ground's CA-signed certificate and credentials.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from '../../src/devenv/processes.js';
import { ground } from './ground.js';

export interface OwnVcsim {
  url: string;
  port: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export async function startOwnVcsim(flags: string[]): Promise<OwnVcsim> {
  const g = ground();
  const [port] = (await freePorts(1)) as [number];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-vcsim-'));
  const pki = path.dirname(g.caCert);
  let child: ChildProcess | undefined;
  const start = async () => {
    const ready = path.join(dir, `ready-${Date.now()}.json`);
    child = spawn(
      g.tools.vcsim,
      [
        '-l',
        `127.0.0.1:${port}`,
        '-username',
        g.vcsimUser,
        '-password',
        g.vcsimPassword,
        '-tlscert',
        path.join(pki, 'vcsim.crt'),
        '-tlskey',
        path.join(pki, 'vcsim.key'),
        '-ready-file',
        ready,
        ...flags,
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 1800; i++) {
      if (await readFile(ready, 'utf8').catch(() => '')) return;
      if (child.exitCode !== null) throw new Error(`vcsim exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error('vcsim did not start within 180 s');
  };
  const stopChild = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stopChild();
      await rm(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopChild();
      await start();
    },
  };
}
