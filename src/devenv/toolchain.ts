// Finds or builds the binaries of the local test ground (kube-apiserver, kubectl, etcd, vcsim, govc) and
// helm (only the chart test needs it).
// Each is built from the Go wrapper module under tools/ into a versioned cache outside the repository, only
// when missing; a binary named by an environment variable, or on PATH at the pinned version, is used as is.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { access, constants, mkdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../install/package-root.js';
import { fixedGovmomi, VCSIM_FIX_ID } from './vcsim-fix.js';

const run = promisify(execFile);

export type ToolName = 'kube-apiserver' | 'kube-controller-manager' | 'kubectl' | 'etcd' | 'vcsim' | 'govc' | 'helm';

interface ToolPin {
  /** Wrapper module under tools/. */
  module: string;
  /** Version of the upstream module the wrapper pins (and the cache folder's suffix). */
  version: string;
  /** Go package to build, relative to the wrapper module or fully qualified. */
  pkg: string;
  /** Environment variable that may name a ready binary. */
  env: string;
  /** Arguments that make the binary print its version, and the text that proves it is the pinned one. */
  versionArgs: string[];
  versionText: string;
  ldflags: string;
  /** Rough first-build time on a 2-core machine, for the progress message. */
  estimate: string;
  /** Build against govmomi with vcsim's lock-order fix (see vcsim-fix.ts). */
  fixedGovmomi?: boolean;
}

const K8S = 'v1.35.4';
const k8sLdflags = `-s -w -X k8s.io/component-base/version.gitVersion=${K8S} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=35 -X k8s.io/component-base/version.gitTreeState=clean`;

export const PINS: Record<ToolName, ToolPin> = {
  'kube-apiserver': {
    module: 'kubernetes',
    version: K8S,
    pkg: 'k8s.io/kubernetes/cmd/kube-apiserver',
    env: 'VMOP_KUBE_APISERVER',
    versionArgs: ['--version'],
    versionText: `Kubernetes ${K8S}`,
    ldflags: k8sLdflags,
    estimate: '5-15 minutes',
  },
  'kube-controller-manager': {
    // A module of its own, so adding it did not change the kubernetes module (and its cached builds).
    module: 'kube-controller-manager',
    version: K8S,
    pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager',
    env: 'VMOP_KUBE_CONTROLLER_MANAGER',
    versionArgs: ['--version'],
    versionText: `Kubernetes ${K8S}`,
    ldflags: k8sLdflags,
    estimate: '2-10 minutes',
  },
  kubectl: {
    module: 'kubernetes',
    version: K8S,
    pkg: 'k8s.io/kubernetes/cmd/kubectl',
    env: 'VMOP_KUBECTL',
    versionArgs: ['version', '--client'],
    versionText: `Client Version: ${K8S}`,
    ldflags: k8sLdflags,
    estimate: '2-5 minutes',
  },
  helm: {
    module: 'helm',
    version: 'v3.22.0',
    pkg: 'helm.sh/helm/v3/cmd/helm',
    env: 'VMOP_HELM',
    versionArgs: ['version', '--short'],
    versionText: 'v3.22',
    ldflags: '-s -w',
    estimate: '1-3 minutes',
  },
  etcd: {
    module: 'etcd',
    version: 'v3.6.16',
    pkg: 'go.etcd.io/etcd/server/v3',
    env: 'VMOP_ETCD',
    versionArgs: ['--version'],
    versionText: 'etcd Version: 3.6.16',
    ldflags: '-s -w',
    estimate: '1-3 minutes',
  },
  vcsim: {
    module: 'govmomi',
    version: 'v0.56.0',
    pkg: './vcsim',
    env: 'VMOP_VCSIM',
    // vmop's vcsim launcher has flags of its own (-uuid-seed, -ready-file, -deploy-delay, -fault), so only it will do.
    versionArgs: ['-h'],
    versionText: '-deploy-delay',
    ldflags: '-s -w',
    estimate: '1-3 minutes',
    fixedGovmomi: true,
  },
  govc: {
    module: 'govmomi',
    version: 'v0.56.0',
    pkg: './govc',
    env: 'VMOP_GOVC',
    versionArgs: ['version'],
    versionText: 'govc',
    ldflags: '-s -w',
    estimate: '1-3 minutes',
  },
};

export { repoRoot };

export function cacheDir(): string {
  return process.env.VMOP_CACHE ?? path.join(os.homedir(), '.cache', 'vmop');
}

const moduleHashes = new Map<string, string>();

/** A short hash of the wrapper module's files, so a change to the wrapper (not only the version) rebuilds. */
function moduleHash(module: string): string {
  let hash = moduleHashes.get(module);
  if (!hash) {
    const dir = path.join(repoRoot(), 'tools', module);
    const h = createHash('sha256');
    const walk = (d: string) => {
      for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const file = path.join(d, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (/\.(go|mod|sum)$/.test(entry.name)) h.update(path.relative(dir, file)).update(readFileSync(file));
      }
    };
    walk(dir);
    hash = h.digest('hex').slice(0, 10);
    moduleHashes.set(module, hash);
  }
  return hash;
}

export function cachedPath(tool: ToolName): string {
  const pin = PINS[tool];
  const fix = pin.fixedGovmomi ? `-${VCSIM_FIX_ID}` : '';
  return path.join(cacheDir(), `${pin.module}-${pin.version}-${moduleHash(pin.module)}${fix}`, tool);
}

async function isExecutable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function hasPinnedVersion(file: string, pin: ToolPin): Promise<boolean> {
  try {
    const { stdout, stderr } = await run(file, pin.versionArgs, { timeout: 10_000 });
    return (stdout + stderr).includes(pin.versionText);
  } catch (err) {
    // `vcsim -h` exits 2 after printing usage; what it printed still tells.
    const out = err as { stdout?: string; stderr?: string };
    return `${out.stdout ?? ''}${out.stderr ?? ''}`.includes(pin.versionText);
  }
}

async function onPath(tool: ToolName): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, tool);
    if ((await isExecutable(file)) && (await hasPinnedVersion(file, PINS[tool]))) return file;
  }
  return undefined;
}

export type Progress = (line: string) => void;

/** Where a tool comes from, without building anything: env, PATH, cache, or undefined if it needs a build. */
export async function locateTool(tool: ToolName): Promise<{ path: string; source: string } | undefined> {
  const pin = PINS[tool];
  const fromEnv = process.env[pin.env];
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) throw new Error(`${pin.env}=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: pin.env };
  }
  const cached = cachedPath(tool);
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  const found = await onPath(tool);
  return found ? { path: found, source: 'PATH' } : undefined;
}

/** Returns the path of a usable binary for `tool`, building it first when needed. */
export async function ensureTool(tool: ToolName, progress: Progress = () => {}): Promise<string> {
  const found = await locateTool(tool);
  if (found) return found.path;
  await buildTool(tool, progress);
  return cachedPath(tool);
}

/** Builds `tool` from its wrapper module into the cache (atomically: a failed build leaves nothing). */
export async function buildTool(tool: ToolName, progress: Progress): Promise<void> {
  const pin = PINS[tool];
  const moduleDir = path.join(repoRoot(), 'tools', pin.module);
  const target = cachedPath(tool);
  const tmp = `${target}.partial-${process.pid}`;
  await mkdir(path.dirname(target), { recursive: true });
  const go = process.env.VMOP_GO ?? 'go';
  try {
    await run(go, ['version'], { timeout: 30_000 });
  } catch {
    throw new Error(
      `building ${tool} needs Go >= 1.25 on PATH (or set ${pin.env} to a ready ${tool} binary); install Go ` +
        'from your package manager and run again',
    );
  }
  progress(`building ${tool} ${pin.version} from Go modules (first time only, about ${pin.estimate})...`);
  const started = Date.now();
  const ticker = setInterval(() => {
    progress(`  still building ${tool}: ${Math.round((Date.now() - started) / 1000)}s`);
  }, 30_000);
  try {
    const modfile: string[] = [];
    if (pin.fixedGovmomi) {
      await fixedGovmomi(go, moduleDir, pin.version, cacheDir(), `${tmp}.mod`);
      modfile.push('-modfile', `${tmp}.mod`);
    }
    const output: string[] = [];
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(go, ['build', ...modfile, '-trimpath', '-ldflags', pin.ldflags, '-o', tmp, pin.pkg], {
        cwd: moduleDir,
        env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const collect = (chunk: Buffer) => output.push(chunk.toString());
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      throw new Error(
        `building ${tool} failed (go build exited ${code}) in ${moduleDir}:\n${output.join('').slice(-4000)}`,
      );
    }
    await rename(tmp, target);
    progress(`built ${tool} in ${Math.round((Date.now() - started) / 1000)}s -> ${target}`);
  } finally {
    clearInterval(ticker);
    await rm(tmp, { force: true });
    await rm(`${tmp}.mod`, { force: true });
    await rm(`${tmp}.sum`, { force: true });
  }
}
