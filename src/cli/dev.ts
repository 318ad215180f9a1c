// `vmop dev up|down|status`: the embedded local environment. `up` builds what is missing, starts etcd,
// kube-apiserver, vcsim and the manager in the background, seeds the spec's examples and exits once all are
// healthy; `down` stops exactly what `up` started.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  DEFAULT_PORTS,
  groundStatus,
  httpStatus,
  logFile,
  pidFile,
  startGround,
  stopGround,
  type Component,
  type GroundPorts,
} from '../devenv/ground.js';
import { livePid, portIsFree, startDetached, stopByPidFile, waitFor } from '../devenv/processes.js';
import { applyObjects, exampleObjects, installCRDs, kubeConfigFrom, seedContentLibrary } from '../devenv/seed.js';
import { repoRoot } from '../devenv/toolchain.js';
import { KubeClient } from '../runtime/kube-client.js';
import { checkFlags, parseArgs, stringFlag } from './args.js';

const run = promisify(execFile);

export function devDir(): string {
  return process.env.VMOP_DEV_DIR ?? path.join(repoRoot(), '.vmop', 'dev');
}

/** Ports from VMOP_DEV_PORTS ("etcd,etcdPeer,apiserver,vcsim,manager"), else the defaults. */
export function devPorts(): GroundPorts & { manager: number } {
  const raw = process.env.VMOP_DEV_PORTS;
  if (!raw) return { ...DEFAULT_PORTS, manager: 18081 };
  const n = raw.split(',').map(Number);
  if (n.length !== 5 || n.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535)) {
    throw new Error(`VMOP_DEV_PORTS must be five ports "etcd,etcdPeer,apiserver,vcsim,manager" (got "${raw}")`);
  }
  const [etcd, etcdPeer, apiserver, vcsim, manager] = n as [number, number, number, number, number];
  return { etcd, etcdPeer, apiserver, vcsim, manager };
}

const say = (line: string) => process.stdout.write(`${line}\n`);

export async function devCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'up':
      return devUp(rest);
    case 'down':
      return devDown(rest);
    case 'status':
      return devStatus();
    default:
      process.stderr.write('usage: vmop dev up|down|status (see `vmop help`)\n');
      return 2;
  }
}

async function devUp(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['apply-examples']);
  checkFlags(args, ['kubeconfig', 'apply-examples'], 'dev up');
  const started = Date.now();
  const dir = devDir();
  const ports = devPorts();
  const external = stringFlag(args, 'kubeconfig');
  const components: Component[] = external ? ['vcsim'] : ['etcd', 'kube-apiserver', 'vcsim'];
  say(`vmop dev up: local environment in ${path.relative(process.cwd(), dir) || dir}`);

  const ground = await startGround({ dir, ports, components, progress: (l) => say(`  ${l}`) });
  for (const c of ground.started) say(`  started ${c}`);
  const kubeconfig = external ? path.resolve(external) : ground.kubeconfig;
  const managerPid = pidFile(dir, 'manager');
  let managerStarted = false;
  try {
    const client = new KubeClient(kubeConfigFrom(kubeconfig, external ? undefined : 'admin'));
    try {
      await installCRDs(client);
      await applyObjects(client, exampleObjects());
    } finally {
      client.close();
    }
    say(
      '  installed CRDs; seeded namespace my-namespace, VirtualMachineClass my-vm-class, StorageClass my-storage-class',
    );
    await seedContentLibrary({ govc: ground.tools.govc, url: ground.govcURL }, (l) => say(`  ${l}`));

    if (!(await livePid(managerPid))) {
      if (!(await portIsFree(ports.manager))) {
        throw new Error(
          `the manager cannot listen on 127.0.0.1:${ports.manager}: the port is in use (set VMOP_DEV_PORTS)`,
        );
      }
      await startDetached({
        name: 'manager',
        command: process.execPath,
        args: [
          path.join(repoRoot(), 'bin', 'vmop.js'),
          'manager',
          '--kubeconfig',
          kubeconfig,
          '--health-addr',
          `127.0.0.1:${ports.manager}`,
        ],
        logFile: logFile(dir, 'manager'),
        pidFile: managerPid,
      });
      managerStarted = true;
      say('  started manager');
    }
    await waitFor('manager', async () => (await httpStatus(`http://127.0.0.1:${ports.manager}/readyz`)) === 200, {
      timeoutMs: 60_000,
      logFile: logFile(dir, 'manager'),
      pidFile: managerPid,
    });
  } catch (err) {
    if (managerStarted) await stopByPidFile(managerPid);
    for (const c of [...ground.started].reverse()) await stopByPidFile(pidFile(dir, c));
    throw err;
  }

  if (args.flags.has('apply-examples')) await applyExamples(ground.tools.kubectl, kubeconfig);

  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  say(`\nReady in ${((Date.now() - started) / 1000).toFixed(1)}s. Use it with:`);
  say(`  export KUBECONFIG=${rel(kubeconfig)}      # contexts: admin (default), user (non-privileged)`);
  say(`  alias kubectl=${ground.tools.kubectl}`);
  say(`  kubectl get vm,vmclass,vmi,cvmi -A`);
  say(`  source ${rel(ground.govcEnv)} && govc ls /`);
  say(`  npx vmop dev status | npx vmop dev down [--purge]`);
  return 0;
}

async function applyExamples(kubectl: string, kubeconfig: string): Promise<void> {
  const examples = path.join(repoRoot(), 'examples');
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  const applied = await run(kubectl, ['apply', '-f', examples], { env });
  say(`\n$ kubectl apply -f examples/\n${applied.stdout.trimEnd()}`);
  const listed = await run(kubectl, ['get', 'vm', '-n', 'my-namespace', '-o', 'wide'], { env });
  say(`\n$ kubectl get vm -n my-namespace -o wide\n${listed.stdout.trimEnd()}`);
}

async function devDown(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['purge']);
  checkFlags(args, ['purge'], 'dev down');
  const dir = devDir();
  const stopped: string[] = [];
  if (await stopByPidFile(pidFile(dir, 'manager'))) stopped.push('manager');
  stopped.push(...(await stopGround(dir, { purge: args.flags.has('purge') })));
  say(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing was running');
  if (args.flags.has('purge')) say(`deleted ${dir}`);
  return 0;
}

async function devStatus(): Promise<number> {
  const dir = devDir();
  const rows = await groundStatus(dir);
  const managerPort = devPorts().manager;
  const mpid = await livePid(pidFile(dir, 'manager'));
  const mhealthy =
    mpid !== undefined && (await httpStatus(`http://127.0.0.1:${managerPort}/readyz`).catch(() => 0)) === 200;
  const all = [...rows, { name: 'manager', pid: mpid, address: `http://127.0.0.1:${managerPort}`, healthy: mhealthy }];
  say('COMPONENT        STATE      PID      ADDRESS');
  for (const r of all) {
    const state = r.pid === undefined ? 'stopped' : r.healthy ? 'healthy' : 'unhealthy';
    say(`${r.name.padEnd(16)} ${state.padEnd(10)} ${String(r.pid ?? '-').padEnd(8)} ${r.address}`);
  }
  const kubeconfig = path.join(dir, 'kubeconfig');
  if (await readFile(kubeconfig).catch(() => undefined)) say(`\nkubeconfig: ${kubeconfig}`);
  return all.every((r) => r.healthy) ? 0 : 3;
}
