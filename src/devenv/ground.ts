// The local test ground: etcd, kube-apiserver, kube-controller-manager (the controllers that bind volume
// claims, protect claims in use, delete namespaces and collect garbage) and vcsim on loopback, plus the files
// clients need (kubeconfig, govc.env). `vmop dev` runs one
// in .vmop/dev; the test suite runs one per test run in a temporary folder.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import { ensurePKI, ensureServingCert, type PKI } from './pki.js';
import { livePid, portIsFree, startDetached, stopByPidFile, waitFor, type ProcessSpec } from './processes.js';
import { ensureTool, type Progress, type ToolName } from './toolchain.js';
import { extraVcsimArgs } from './vcenter-profile.js';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'vcsim'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface GroundPorts {
  etcd: number;
  etcdPeer: number;
  apiserver: number;
  vcsim: number;
}

export const DEFAULT_PORTS: GroundPorts = { etcd: 23790, etcdPeer: 23800, apiserver: 16443, vcsim: 18989 };

/** Seed for vcsim's UUIDs, so content library and item IDs (and the image names derived from them) are stable. */
export const VCSIM_UUID_SEED = 20261126;

/** The local vCenter's inventory: one datacenter, two clusters of two hosts (the zones), two datastores. */
export const VCSIM_INVENTORY = [
  '-dc',
  '1',
  '-cluster',
  '2',
  '-host',
  '2',
  '-standalone-host',
  '0',
  '-ds',
  '2',
  '-pg',
  '2',
  '-vm',
  '0',
];

export interface GroundState {
  dir: string;
  ports: GroundPorts;
  apiserverURL: string;
  vcsimURL: string;
  /** vcsim's SDK URL with the user and password in it, as GOVC_URL takes it. */
  govcURL: string;
  vcsimUser: string;
  vcsimPassword: string;
  adminToken: string;
  userToken: string;
  /** The user name of the non-privileged user, and its group. */
  userName: string;
  kubeconfig: string;
  govcEnv: string;
  caCert: string;
  tools: Record<ToolName, string>;
}

export interface GroundOptions {
  dir: string;
  ports?: GroundPorts;
  progress?: Progress;
  /** Components to run; all by default. Without kube-apiserver/etcd an existing cluster is used. */
  components?: readonly Component[];
  /** The kubeconfig that env.sh points at, when it is not the ground's own (an existing cluster). */
  kubeconfig?: string;
  /** vCenter profile arguments for vmop's vcsim launcher (vcenter-profile.ts); VMOP_VCSIM_ARGS go after them. */
  vcsimArgs?: string[];
}

interface Paths {
  pki: string;
  etcdData: string;
  run: string;
  logs: string;
  tokens: string;
  state: string;
  vcsimReady: string;
  kubeconfig: string;
  govcEnv: string;
}

function paths(dir: string): Paths {
  return {
    pki: path.join(dir, 'pki'),
    etcdData: path.join(dir, 'etcd'),
    run: path.join(dir, 'run'),
    logs: path.join(dir, 'logs'),
    tokens: path.join(dir, 'pki', 'tokens.csv'),
    state: path.join(dir, 'state.json'),
    vcsimReady: path.join(dir, 'run', 'vcsim.json'),
    kubeconfig: path.join(dir, 'kubeconfig'),
    govcEnv: path.join(dir, 'govc.env'),
  };
}

export function pidFile(dir: string, name: string): string {
  return path.join(paths(dir).run, `${name}.pid`);
}

export function logFile(dir: string, name: string): string {
  return path.join(paths(dir).logs, `${name}.log`);
}

interface Secrets {
  admin: string;
  user: string;
  vcsimPassword: string;
}

/** What the token file and vcsim's password file hold so far (empty when missing). */
async function readSecrets(file: string): Promise<Partial<Secrets>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const vcsimPassword = await readFile(`${file}.vcsim`, 'utf8').catch(() => '');
  const rows = text
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  return {
    admin: rows.find((r) => r[1] === 'admin')?.[0],
    user: rows.find((r) => r[1] === 'vmop-user')?.[0],
    vcsimPassword: vcsimPassword || undefined,
  };
}

/**
 * The API server's static token file (admin in system:masters, vmop-user in vmop:users) and vcsim's password,
 * made once per ground and kept across restarts so kubeconfig and govc.env stay valid.
 */
async function ensureSecrets(file: string): Promise<Secrets> {
  const existing = await readSecrets(file);
  if (existing.admin && existing.user && existing.vcsimPassword) return existing as Secrets;

  const token = () => randomBytes(24).toString('hex');
  const s: Secrets = { admin: token(), user: token(), vcsimPassword: token() };
  const lines = `${s.admin},admin,admin-uid,"system:masters"\n${s.user},vmop-user,vmop-user-uid,"vmop:users"\n`;
  await writeFile(file, lines, { mode: 0o600 });
  await writeFile(`${file}.vcsim`, s.vcsimPassword, { mode: 0o600 });
  return s;
}

/** GET `url` and resolve with the status code (TLS verified against `ca` when given). */
export function httpStatus(
  url: string,
  opts: { ca?: Buffer; token?: string; insecure?: boolean } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.get(
      u,
      {
        ca: opts.ca,
        rejectUnauthorized: !opts.insecure,
        headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
        timeout: 5000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function kubeconfigYAML(server: string, caPEM: string, adminToken: string, userToken: string): string {
  const ca = Buffer.from(caPEM).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: vmop-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    '- name: admin',
    '  user:',
    `    token: ${adminToken}`,
    '- name: user',
    '  user:',
    `    token: ${userToken}`,
    'contexts:',
    '- name: admin',
    '  context:',
    '    cluster: vmop-local',
    '    user: admin',
    '- name: user',
    '  context:',
    '    cluster: vmop-local',
    '    user: user',
    '    namespace: my-namespace',
    'current-context: admin',
    '',
  ].join('\n');
}

/**
 * Starts whatever of the ground is not running yet and returns how to reach it. Components already running
 * (their pid file names a live process) are left alone, so calling it twice is harmless. If a component
 * fails to start, the ones this call started are stopped again.
 */
export async function startGround(opts: GroundOptions): Promise<GroundState & { started: Component[] }> {
  const progress = opts.progress ?? (() => {});
  const p = paths(opts.dir);
  const components = opts.components ?? COMPONENTS;
  await Promise.all([p.run, p.logs, p.etcdData].map((d) => mkdir(d, { recursive: true })));
  const previous = await readState(opts.dir);
  const ports = opts.ports ?? previous?.ports ?? DEFAULT_PORTS;

  const tools = {} as Record<ToolName, string>;
  for (const tool of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl', 'vcsim', 'govc'] as const) {
    tools[tool] = await ensureTool(tool, progress);
  }

  const pki = await ensurePKI(p.pki);
  const serving = await ensureServingCert(pki, 'apiserver', {
    dns: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ips: ['127.0.0.1', '10.0.0.1'],
  });
  const tokens = await ensureSecrets(p.tokens);
  const ca = await readFile(pki.caCert);

  const state: GroundState = {
    dir: opts.dir,
    ports,
    apiserverURL: `https://127.0.0.1:${ports.apiserver}`,
    vcsimURL: `https://127.0.0.1:${ports.vcsim}/sdk`,
    govcURL: `https://vmop:${tokens.vcsimPassword}@127.0.0.1:${ports.vcsim}/sdk`,
    vcsimUser: 'vmop',
    vcsimPassword: tokens.vcsimPassword,
    adminToken: tokens.admin,
    userToken: tokens.user,
    userName: 'vmop-user',
    kubeconfig: p.kubeconfig,
    govcEnv: p.govcEnv,
    caCert: pki.caCert,
    tools,
  };

  // The kubeconfig first: kube-controller-manager reads it.
  await writeFile(p.kubeconfig, kubeconfigYAML(state.apiserverURL, ca.toString(), tokens.admin, tokens.user), {
    mode: 0o600,
  });
  const started: Component[] = [];
  try {
    if (components.includes('etcd') && !(await livePid(pidFile(opts.dir, 'etcd')))) {
      await startEtcd(state, p, tools.etcd);
      started.push('etcd');
    }
    if (components.includes('kube-apiserver') && !(await livePid(pidFile(opts.dir, 'kube-apiserver')))) {
      await startAPIServer(state, p, pki, serving, tools['kube-apiserver'], ca);
      started.push('kube-apiserver');
    }
    if (
      components.includes('kube-controller-manager') &&
      !(await livePid(pidFile(opts.dir, 'kube-controller-manager')))
    ) {
      await startControllerManager(state, tools['kube-controller-manager']);
      started.push('kube-controller-manager');
    }
    const vcsimArgs = [...(opts.vcsimArgs ?? []), ...extraVcsimArgs()];
    const argsFile = path.join(p.run, 'vcsim.args.json');
    if (components.includes('vcsim') && !(await livePid(pidFile(opts.dir, 'vcsim')))) {
      const vcsimCert = await ensureServingCert(pki, 'vcsim', { dns: ['localhost'], ips: ['127.0.0.1'] });
      await startVcsim(state, p, tools.vcsim, vcsimCert, vcsimArgs);
      await writeFile(argsFile, JSON.stringify(vcsimArgs));
      started.push('vcsim');
    } else if (components.includes('vcsim')) {
      const running = await readFile(argsFile, 'utf8').catch(() => '[]');
      if (running !== JSON.stringify(vcsimArgs)) {
        progress(
          `vcsim already runs with other profile arguments (${(JSON.parse(running) as string[]).join(' ') || 'none'}); ` +
            'it keeps them until `vmop dev down` stops it',
        );
      }
    }
  } catch (err) {
    for (const c of started.reverse()) await stopByPidFile(pidFile(opts.dir, c));
    throw err;
  }

  const govcLines = [
    `export GOVC_URL='${state.govcURL}'`,
    `export GOVC_TLS_CA_CERTS='${pki.caCert}'`,
    'export GOVC_DATACENTER=DC0',
  ];
  await writeFile(p.govcEnv, [...govcLines, `export PATH='${path.dirname(tools.govc)}':"$PATH"`, ''].join('\n'), {
    mode: 0o600,
  });
  // One file for everything: kubectl and govc of the pinned versions first on PATH, both configured.
  await writeFile(
    path.join(opts.dir, 'env.sh'),
    [
      `export KUBECONFIG='${opts.kubeconfig ?? p.kubeconfig}'`,
      ...govcLines,
      `export PATH='${path.dirname(tools.kubectl)}':'${path.dirname(tools.govc)}':"$PATH"`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  await writeFile(p.state, JSON.stringify({ ports }, null, 2));
  return { ...state, started };
}

async function ensurePortFree(name: string, port: number): Promise<void> {
  if (!(await portIsFree(port))) {
    throw new Error(
      `${name} cannot listen on 127.0.0.1:${port}: the port is in use by another program. Stop that program, ` +
        `or choose other ports (VMOP_DEV_PORTS=etcd,etcdPeer,apiserver,vcsim).`,
    );
  }
}

async function startEtcd(state: GroundState, p: Paths, etcd: string): Promise<void> {
  const { etcd: port, etcdPeer } = state.ports;
  await ensurePortFree('etcd', port);
  await ensurePortFree('etcd (peer)', etcdPeer);
  const spec: ProcessSpec = {
    name: 'etcd',
    command: etcd,
    args: [
      '--name=vmop',
      `--data-dir=${p.etcdData}`,
      `--listen-client-urls=http://127.0.0.1:${port}`,
      `--advertise-client-urls=http://127.0.0.1:${port}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=vmop=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync=true',
      '--quota-backend-bytes=4294967296',
      '--log-level=warn',
    ],
    logFile: logFile(state.dir, 'etcd'),
    pidFile: pidFile(state.dir, 'etcd'),
  };
  await startDetached(spec);
  await waitFor('etcd', async () => (await httpStatus(`http://127.0.0.1:${port}/health`)) === 200, {
    timeoutMs: 30_000,
    logFile: spec.logFile,
    pidFile: spec.pidFile,
  });
}

async function startAPIServer(
  state: GroundState,
  p: Paths,
  pki: PKI,
  serving: { cert: string; key: string },
  binary: string,
  ca: Buffer,
): Promise<void> {
  await ensurePortFree('kube-apiserver', state.ports.apiserver);
  const spec: ProcessSpec = {
    name: 'kube-apiserver',
    command: binary,
    args: [
      `--etcd-servers=http://127.0.0.1:${state.ports.etcd}`,
      `--etcd-prefix=/vmop`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${state.ports.apiserver}`,
      `--tls-cert-file=${serving.cert}`,
      `--tls-private-key-file=${serving.key}`,
      `--client-ca-file=${pki.caCert}`,
      `--token-auth-file=${p.tokens}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=https://127.0.0.1:${state.ports.apiserver}`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      // As hardened clusters (OpenShift) do: blockOwnerDeletion needs update on the owner's finalizers.
      '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
      `--cert-dir=${path.join(pki.dir, 'apiserver-generated')}`,
      '--profiling=false',
      '--v=1',
    ],
    logFile: logFile(state.dir, 'kube-apiserver'),
    pidFile: pidFile(state.dir, 'kube-apiserver'),
  };
  await startDetached(spec);
  await waitFor(
    'kube-apiserver',
    async () => (await httpStatus(`${state.apiserverURL}/readyz`, { ca, token: state.adminToken })) === 200,
    { timeoutMs: 120_000, logFile: spec.logFile, pidFile: spec.pidFile },
  );
}

/** The controllers of kube-controller-manager that a cluster without nodes or pods needs. */
const KCM_CONTROLLERS = [
  'persistentvolume-binder-controller',
  'persistentvolume-protection-controller',
  'persistentvolumeclaim-protection-controller',
  // A ResourceQuota's usage (status) must be known before the API server admits what it limits: PVCs of a
  // storage class that a quota associates with the namespace.
  'resourcequota-controller',
  'namespace-controller',
  'garbage-collector-controller',
  // The built-in view/edit/admin roles take in the ClusterRoles labelled to aggregate into them.
  'clusterrole-aggregation-controller',
];

async function startControllerManager(state: GroundState, binary: string): Promise<void> {
  const spec: ProcessSpec = {
    name: 'kube-controller-manager',
    command: binary,
    args: [
      `--kubeconfig=${state.kubeconfig}`,
      `--controllers=${KCM_CONTROLLERS.join(',')}`,
      '--leader-elect=false',
      // No serving port (nothing scrapes it here), so it takes no port of the ground's.
      '--secure-port=0',
      '--use-service-account-credentials=false',
      '--v=1',
    ],
    logFile: logFile(state.dir, 'kube-controller-manager'),
    pidFile: pidFile(state.dir, 'kube-controller-manager'),
  };
  await startDetached(spec);
  // Ready once it has started the volume binder.
  await waitFor(
    'kube-controller-manager',
    async () =>
      /Controller starting.*persistentvolume-binder-controller/.test(
        await readFile(spec.logFile, 'utf8').catch(() => ''),
      ),
    { timeoutMs: 60_000, logFile: spec.logFile, pidFile: spec.pidFile },
  );
}

async function startVcsim(
  state: GroundState,
  p: Paths,
  vcsim: string,
  cert: { cert: string; key: string },
  extra: string[],
): Promise<void> {
  await ensurePortFree('vcsim', state.ports.vcsim);
  await rm(p.vcsimReady, { force: true });
  const spec: ProcessSpec = {
    name: 'vcsim',
    command: vcsim,
    args: [
      '-l',
      `127.0.0.1:${state.ports.vcsim}`,
      ...VCSIM_INVENTORY,
      '-username',
      state.vcsimUser,
      '-password',
      state.vcsimPassword,
      '-uuid-seed',
      String(VCSIM_UUID_SEED),
      '-ready-file',
      p.vcsimReady,
      '-tlscert',
      cert.cert,
      '-tlskey',
      cert.key,
      // Last, so a profile's delays and the user's own arguments win.
      ...extra,
    ],
    logFile: logFile(state.dir, 'vcsim'),
    pidFile: pidFile(state.dir, 'vcsim'),
  };
  await startDetached(spec);
  await waitFor('vcsim', async () => (await readFile(p.vcsimReady, 'utf8').catch(() => '')) !== '', {
    timeoutMs: 30_000,
    logFile: spec.logFile,
    pidFile: spec.pidFile,
  });
}

/** Stops every component of the ground in `dir` that runs; with `purge`, also deletes its data. */
export async function stopGround(dir: string, opts: { purge?: boolean } = {}): Promise<Component[]> {
  const stopped: Component[] = [];
  for (const c of [...COMPONENTS].reverse()) {
    if (await stopByPidFile(pidFile(dir, c))) stopped.push(c);
  }
  if (opts.purge) await rm(dir, { recursive: true, force: true });
  return stopped;
}

async function readState(dir: string): Promise<{ ports: GroundPorts } | undefined> {
  const text = await readFile(paths(dir).state, 'utf8').catch(() => undefined);
  return text ? (JSON.parse(text) as { ports: GroundPorts }) : undefined;
}

export interface ComponentStatus {
  name: Component;
  pid?: number;
  address: string;
  healthy: boolean;
}

/** What runs in `dir`, where, and whether it answers its health check. */
export async function groundStatus(dir: string): Promise<ComponentStatus[]> {
  const ports = (await readState(dir))?.ports ?? DEFAULT_PORTS;
  const ca = await readFile(path.join(paths(dir).pki, 'ca.crt')).catch(() => undefined);
  const adminToken = (await readSecrets(paths(dir).tokens)).admin;
  const probes: Record<Component, { address: string; check: () => Promise<boolean> }> = {
    etcd: {
      address: `http://127.0.0.1:${ports.etcd}`,
      check: async () => (await httpStatus(`http://127.0.0.1:${ports.etcd}/health`)) === 200,
    },
    'kube-apiserver': {
      address: `https://127.0.0.1:${ports.apiserver}`,
      check: async () =>
        (await httpStatus(`https://127.0.0.1:${ports.apiserver}/readyz`, { ca, token: adminToken })) === 200,
    },
    'kube-controller-manager': {
      address: '(no port)',
      check: async () => true, // alive is all it can say without a serving port
    },
    vcsim: {
      address: `https://127.0.0.1:${ports.vcsim}/sdk`,
      check: async () => (await httpStatus(`https://127.0.0.1:${ports.vcsim}/about`, { insecure: true })) > 0,
    },
  };
  const out: ComponentStatus[] = [];
  for (const name of COMPONENTS) {
    const pid = await livePid(pidFile(dir, name));
    const healthy = pid !== undefined && (await probes[name].check().catch(() => false));
    out.push({ name, pid, address: probes[name].address, healthy });
  }
  return out;
}
