// Background processes of the local environment: started detached with their output in a log file and
// their pid in a pid file, so `vmop dev down` stops exactly what `up` started, even from another shell.
import { spawn } from 'node:child_process';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  pidFile: string;
}

/** Starts the process detached from this one; resolves with its pid once it is spawned. */
export async function startDetached(spec: ProcessSpec): Promise<number> {
  const log = await open(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start ${spec.name} (${spec.command}): ${err.message}`)));
      child.once('spawn', () => resolve(child.pid ?? 0));
    });
    child.unref();
    await writeFile(spec.pidFile, `${pid}\n${spec.command}\n`);
    return pid;
  } finally {
    await log.close();
  }
}

/** The pid recorded in `pidFile`, if that process is still alive and still runs the recorded command. */
export async function livePid(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const [pidLine, command] = text.split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  // Guard against a recycled pid: the process must still run the binary we started.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (cmdline !== undefined && command && !cmdline.split('\0')[0]?.endsWith(command.split('/').pop() ?? '')) {
    return undefined;
  }
  return pid;
}

/** Stops the process of `pidFile` (SIGTERM, then SIGKILL after `graceMs`) and removes the pid file. */
export async function stopByPidFile(pidFile: string, graceMs = 10_000): Promise<boolean> {
  const pid = await livePid(pidFile);
  await rm(pidFile, { force: true });
  if (pid === undefined) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true; throws with `what` and the log tail once `timeoutMs` passes. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; logFile?: string; pidFile?: string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (opts.pidFile && (await livePid(opts.pidFile)) === undefined) {
      throw new Error(`${what}: the process exited.${await logTail(opts.logFile)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready after ${Math.round(opts.timeoutMs / 1000)}s.${await logTail(opts.logFile)}`);
    }
    await sleep(200);
  }
}

async function logTail(logFile: string | undefined): Promise<string> {
  if (!logFile) return '';
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const lines = text.trimEnd().split('\n').slice(-15).join('\n');
  return lines ? `\nLast lines of ${logFile}:\n${lines}` : '';
}

/** True when nothing listens on host:port (so we may bind it). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Asks the kernel for `count` distinct free ports on loopback. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      servers.push(server);
      const addr = server.address();
      if (addr && typeof addr === 'object') ports.push(addr.port);
    }
  } finally {
    await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  }
  return ports;
}
