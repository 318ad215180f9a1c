// `vmop dev up|down|status`: the embedded local environment. `up` builds what is missing, starts etcd,
// kube-apiserver, vcsim and the manager in the background, seeds the spec's examples and exits once all are
// healthy; `down` stops exactly what `up` started.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import {
  DEFAULT_PORTS,
  groundStatus,
  httpStatus,
  pidFile,
  startGround,
  stopGround,
  type Component,
  type GroundPorts,
  type GroundState,
} from '../devenv/ground.js';
import { removeWebhooks, stopOperator } from '../devenv/operator.js';
import { livePid, stopByPidFile } from '../devenv/processes.js';
import { kubeConfigFrom } from '../devenv/seed.js';
import { DEV_NETWORK_DEFAULTS, provision } from '../devenv/provision.js';
import { repoRoot } from '../devenv/toolchain.js';
import { KubeClient } from '../runtime/kube-client.js';
import { parseArgs, stringFlag } from './args.js';
import { parseProfile, profileArgs } from '../devenv/vcenter-profile.js';

const run = promisify(execFile);

/** Like run, but a failing command resolves with its exit code instead of throwing. */
async function tryRun(
  file: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv },
): Promise<{ code: number; stdout: string }> {
  try {
    return { code: 0, stdout: (await run(file, args, opts)).stdout };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '' };
  }
}

export function devDir(): string {
  return process.env.VMOP_DEV_DIR ?? path.join(repoRoot(), '.vmop', 'dev');
}

export type DevPorts = GroundPorts & { manager: number; webhook: number };

/** Ports from VMOP_DEV_PORTS ("etcd,etcdPeer,apiserver,vcsim,manager,webhook"), else the defaults. */
export function devPorts(): DevPorts {
  const raw = process.env.VMOP_DEV_PORTS;
  if (!raw) return { ...DEFAULT_PORTS, manager: 18081, webhook: 19443 };
  const n = raw.split(',').map(Number);
  if (n.length !== 6 || n.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535)) {
    throw new Error(`VMOP_DEV_PORTS must be six ports "etcd,etcdPeer,apiserver,vcsim,manager,webhook" (got "${raw}")`);
  }
  const [etcd, etcdPeer, apiserver, vcsim, manager, webhook] = n as [number, number, number, number, number, number];
  return { etcd, etcdPeer, apiserver, vcsim, manager, webhook };
}

/** Webhook configurations of a dev environment are named after its folder, so several can share a cluster. */
export function webhookPrefix(dir: string): string {
  return `vmop-dev-${createHash('sha1').update(path.resolve(dir)).digest('hex').slice(0, 8)}`;
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
  const args = parseArgs(argv, { strings: ['kubeconfig', 'vcenter'], booleans: ['apply-examples'] }, 'dev up');
  const profile = parseProfile(stringFlag(args, 'vcenter'));
  const started = Date.now();
  const dir = devDir();
  const ports = devPorts();
  const external = stringFlag(args, 'kubeconfig');
  const components: Component[] = external ? ['vcsim'] : ['etcd', 'kube-apiserver', 'kube-controller-manager', 'vcsim'];
  say(`vmop dev up: local environment in ${path.relative(process.cwd(), dir) || dir}`);

  const ground = await startGround({
    dir,
    ports,
    components,
    kubeconfig: external ? path.resolve(external) : undefined,
    vcsimArgs: profileArgs(profile),
    progress: (l) => say(`  ${l}`),
  });
  if (profile !== 'instant') say(`  vCenter profile ${profile}: vcsim takes as long as a real vCenter (README)`);
  for (const c of ground.started) say(`  started ${c}`);
  const kubeconfig = external ? path.resolve(external) : ground.kubeconfig;
  const context = external ? undefined : 'admin';
  await writeFile(path.join(dir, 'dev.json'), JSON.stringify({ kubeconfig, context }, null, 2));
  try {
    await provision({
      ground,
      dir,
      kubeconfig,
      context,
      healthPort: ports.manager,
      webhookPort: ports.webhook,
      webhookPrefix: webhookPrefix(dir),
      // Its own cluster has no vSphere CSI driver; an existing cluster may (and then provisions itself).
      volumeProvisioner: !external,
      networkDefaults: DEV_NETWORK_DEFAULTS,
      progress: (l) => say(`  ${l}`),
    });
  } catch (err) {
    for (const c of [...ground.started].reverse()) await stopByPidFile(pidFile(dir, c));
    throw err;
  }

  if (args.flags.has('apply-examples')) await applyExamples(ground, kubeconfig);

  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  say(`\nReady in ${((Date.now() - started) / 1000).toFixed(1)}s. Use it with:`);
  say(`  source ${rel(path.join(dir, 'env.sh'))}      # KUBECONFIG, GOVC_*, pinned kubectl and govc on PATH`);
  say(`  kubectl get vm,vmclass,vmi,cvmi -A          # contexts: admin (default), user (non-privileged)`);
  say(`  govc ls /`);
  say(`  npx vmop dev status | npx vmop dev down [--purge]`);
  return 0;
}

async function applyExamples(ground: GroundState, kubeconfig: string): Promise<void> {
  const kubectl = ground.tools.kubectl;
  const examples = path.join(repoRoot(), 'examples');
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  // The example's image first: the admission webhook resolves spec.imageName into spec.image (the IMAGE column)
  // only for an image that exists, and the image controller lists the content library every few seconds.
  const image = (
    YAML.parse(await readFile(path.join(examples, 'vm.yaml'), 'utf8')) as { spec?: { imageName?: string } }
  ).spec?.imageName;
  if (image) {
    say(`\nwaiting for image ${image} (the operator lists vcsim's content library) …`);
    await run(kubectl, ['wait', `clustervirtualmachineimage/${image}`, '--for=create', '--timeout=120s'], { env });
  }
  const applied = await run(kubectl, ['apply', '-f', examples], { env });
  say(`\n$ kubectl apply -f examples/\n${applied.stdout.trimEnd()}`);
  say('\nwaiting for my-vm to be PoweredOn and Ready (the operator deploys it in vcsim) …');
  const waited = await tryRun(
    kubectl,
    ['wait', '-n', 'my-namespace', 'vm/my-vm', '--for=condition=Ready', '--timeout=120s'],
    { env },
  );
  const listed = await run(kubectl, ['get', 'vm', '-n', 'my-namespace', '-o', 'wide'], { env });
  say(`\n$ kubectl get vm -n my-namespace -o wide\n${listed.stdout.trimEnd()}`);
  if (waited.code !== 0) {
    const conditions = await tryRun(
      kubectl,
      [
        'get',
        'vm',
        '-n',
        'my-namespace',
        'my-vm',
        '-o',
        'jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\\n"}{end}',
      ],
      { env },
    );
    throw new Error(
      `my-vm did not become Ready in 120 s. Its conditions:\n${conditions.stdout.trimEnd()}\n` +
        `See kubectl describe vm -n my-namespace my-vm and ${path.join(devDir(), 'logs', 'manager.log')}`,
    );
  }
  const uuid = (
    await run(kubectl, ['get', 'vm', '-n', 'my-namespace', 'my-vm', '-o', 'jsonpath={.spec.instanceUUID}'], { env })
  ).stdout.trim();
  const info = await run(ground.tools.govc, ['vm.info', '-vm.uuid', uuid], {
    env: { ...process.env, GOVC_URL: ground.govcURL, GOVC_TLS_CA_CERTS: ground.caCert },
  });
  say(`\n$ govc vm.info -vm.uuid $(kubectl get vm -n my-namespace my-vm -o jsonpath='{.spec.instanceUUID}')`);
  say(info.stdout.trimEnd());
}

async function devDown(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['purge'] }, 'dev down');
  const dir = devDir();
  const stopped: string[] = [];
  // Webhooks first: between stopping the manager and removing its webhook configurations, a cluster shared
  // with others (`up --kubeconfig`) would refuse every VirtualMachine write (failurePolicy Fail).
  await removeDevWebhooks(dir);
  const wasRunning = await stopOperator(dir);
  if (wasRunning) stopped.push('manager');
  stopped.push(...(await stopGround(dir, { purge: args.flags.has('purge') })));
  say(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing was running');
  if (args.flags.has('purge')) say(`deleted ${dir}`);
  return 0;
}

/** Removes this environment's webhook configurations, so a stopped manager cannot block the cluster's writes. */
async function removeDevWebhooks(dir: string): Promise<void> {
  const text = await readFile(path.join(dir, 'dev.json'), 'utf8').catch(() => undefined);
  if (!text) return;
  const { kubeconfig, context } = JSON.parse(text) as { kubeconfig: string; context?: string };
  const client = new KubeClient(kubeConfigFrom(kubeconfig, context));
  try {
    await removeWebhooks(client, webhookPrefix(dir));
  } catch (err) {
    say(
      `note: could not remove the webhook configurations ${webhookPrefix(dir)}-*: ${err instanceof Error ? err.message : err}`,
    );
  } finally {
    client.close();
  }
}

async function devStatus(): Promise<number> {
  const dir = devDir();
  const rows = await groundStatus(dir);
  const managerPort = devPorts().manager;
  const mpid = await livePid(pidFile(dir, 'manager'));
  const mhealthy =
    mpid !== undefined && (await httpStatus(`http://127.0.0.1:${managerPort}/readyz`).catch(() => 0)) === 200;
  const all = [...rows, { name: 'manager', pid: mpid, address: `http://127.0.0.1:${managerPort}`, healthy: mhealthy }];
  say('COMPONENT               STATE      PID      ADDRESS');
  for (const r of all) {
    const state = r.pid === undefined ? 'stopped' : r.healthy ? 'healthy' : 'unhealthy';
    say(`${r.name.padEnd(23)} ${state.padEnd(10)} ${String(r.pid ?? '-').padEnd(8)} ${r.address}`);
  }
  const kubeconfig = path.join(dir, 'kubeconfig');
  if (await readFile(kubeconfig).catch(() => undefined)) say(`\nkubeconfig: ${kubeconfig}`);
  return all.every((r) => r.healthy) ? 0 : 3;
}
