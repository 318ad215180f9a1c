// Helpers the benchmarks share: their flags, a bounded pool of work, and what /proc says of a process (peak and
// current memory, CPU seconds), and stopping a child process as a cluster would.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePorts } from '../src/devenv/processes.js';
import { API } from './api-version.js';
import { kubeConfigFrom, storageClassAssociation } from '../src/devenv/seed.js';
import { startSession, type Session } from '../src/devenv/session.js';
import { VSphereSession } from '../src/providers/vsphere/session.js';
import { KubeClient } from '../src/runtime/kube-client.js';
import { repoRoot } from '../src/devenv/toolchain.js';

export function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}

/** Runs `work(i)` for i < n with at most `concurrency` at once. */
export async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

/** Peak resident memory of a process so far, in MiB (Linux /proc). */
export async function peakRSSMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Resident memory of a process now, in MiB (Linux /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** SIGTERM, then SIGKILL if it has not exited within 15 s. */
export async function stopProcess(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** User + system CPU seconds of a process so far (Linux /proc; clock ticks are 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds per process of the run, to see where a phase's time went on a machine of few cores. */
export class CPUAccount {
  private readonly pids = new Map<string, number>();

  add(name: string, pid: number | undefined): void {
    if (pid) this.pids.set(name, pid);
  }

  async sample(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [name, pid] of this.pids) out.set(name, await cpuSeconds(pid));
    return out;
  }

  static line(before: Map<string, number>, after: Map<string, number>): string {
    return [...after]
      .filter(([, s]) => Number.isFinite(s)) // a process that has exited
      .map(([name, s]) => `${name} ${(s - (before.get(name) ?? 0)).toFixed(1)}`)
      .join(', ');
  }
}

/**
 * A manager of the benchmark's own (`vmop manager` as the admin of the session's kubeconfig, health on a free
 * port), with `args` after the common ones. Its log goes to the terminal with VMOP_BENCH_MANAGER_LOG=1.
 */
export async function spawnManager(
  kubeconfig: string,
  args: string[],
): Promise<{ proc: ReturnType<typeof spawn>; health: number }> {
  const [health] = (await freePorts(1)) as [number];
  const proc = spawn(
    process.execPath,
    [
      path.join(repoRoot(), 'bin', 'vmop.js'),
      'manager',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'admin',
      '--health-addr',
      `127.0.0.1:${health}`,
      '--log-level',
      process.env.VMOP_BENCH_LOG_LEVEL ?? 'warn',
      ...args,
    ],
    { stdio: ['ignore', process.env.VMOP_BENCH_MANAGER_LOG ? 'inherit' : 'ignore', 'inherit'] },
  );
  return { proc, health };
}

/** What a benchmark runs in: a throw-away local environment, clients of it, and its own manager once started. */
export interface BenchSession {
  session: Session;
  kube: KubeClient;
  vsphere: VSphereSession;
  /** The benchmark's own manager, stopped with the session. */
  manager?: ReturnType<typeof spawn>;
}

/**
 * Runs `work` in a fresh local environment whose own manager serves the webhooks and mirrors the images but
 * runs no VM controller (a second operator watching the same vCenter would skew every figure); stops it all
 * afterwards, keeping its folder when `work` failed.
 */
export async function inBenchSession(
  prefix: string,
  work: (b: BenchSession) => Promise<void>,
  opts: { vcsimArgs?: string[] } = {},
): Promise<void> {
  const session = await startSession({
    prefix,
    webhookPrefix: prefix,
    controllers: ['virtualmachineimage'],
    vcsimArgs: opts.vcsimArgs,
  });
  const b: BenchSession = {
    session,
    kube: new KubeClient(kubeConfigFrom(session.ground.kubeconfig, 'admin')),
    vsphere: new VSphereSession(),
  };
  let failed = true;
  try {
    await work(b);
    failed = false;
  } finally {
    if (b.manager) await stopProcess(b.manager);
    await b.vsphere.close().catch(() => undefined);
    b.kube.close();
    await session.stop({ keep: failed });
    if (failed) console.log(`kept ${session.dir} for inspection (logs/ has each component's log)`);
  }
}

/** A namespace for the benchmark's VMs: the class they name (2 CPUs, 4 GiB) and the storage quota they need. */
export async function benchNamespace(kube: KubeClient, ns: string): Promise<void> {
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await kube.create({
    apiVersion: API,
    kind: 'VirtualMachineClass',
    metadata: { name: 'bench-class', namespace: ns },
    spec: { hardware: { cpus: 2, memory: '4Gi' } },
  });
  await kube.create(storageClassAssociation(ns, 'my-storage-class'));
}
