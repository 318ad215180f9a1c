// A vcsim process of a caller's own (a test that needs a big inventory or a restart, a benchmark), outside
// any ground: started on a free loopback port, ready when its ready file appears, stopped and restarted on demand.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from './processes.js';
import { ensureTool } from './toolchain.js';
import { extraVcsimArgs } from './vcenter-profile.js';

export interface VcsimProcess {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port (all in-memory state is lost, as on a vCenter restart). */
  restart(): Promise<void>;
}

export interface VcsimOptions {
  flags: string[];
  credentials?: { username: string; password: string };
  tls?: { cert: string; key: string };
  /** How long building a big inventory may take. */
  startTimeoutMs?: number;
}

export async function spawnVcsim(opts: VcsimOptions): Promise<VcsimProcess> {
  const binary = await ensureTool('vcsim');
  const [port] = (await freePorts(1)) as [number];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-vcsim-'));
  const timeout = opts.startTimeoutMs ?? 180_000;
  let child: ChildProcess | undefined;
  const start = async () => {
    const ready = path.join(dir, `ready-${Date.now()}.json`);
    // -exit-with-stdin: if this process dies without stopping vcsim, the closed pipe ends vcsim too.
    const args = [
      '-l',
      `127.0.0.1:${port}`,
      '-ready-file',
      ready,
      '-exit-with-stdin',
      ...opts.flags,
      ...extraVcsimArgs(),
    ];
    if (opts.credentials) args.push('-username', opts.credentials.username, '-password', opts.credentials.password);
    if (opts.tls) args.push('-tlscert', opts.tls.cert, '-tlskey', opts.tls.key);
    const c = spawn(binary, args, { stdio: ['pipe', 'ignore', 'ignore'] });
    child = c;
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      if (await readFile(ready, 'utf8').catch(() => '')) return;
      if (c.exitCode !== null) throw new Error(`vcsim exited with ${c.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    c.kill('SIGKILL');
    throw new Error(`vcsim did not start within ${timeout / 1000} s`);
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
