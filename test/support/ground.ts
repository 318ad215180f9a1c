// Test access to the shared ground that test/run.ts started: clients as admin or as the non-privileged
// user, kubectl and govc runners, and a fresh namespace per test.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { GroundState } from '../../src/devenv/ground.js';
import { kubeConfigFrom } from '../../src/devenv/seed.js';
import { KubeClient } from '../../src/runtime/kube-client.js';

const run = promisify(execFile);

export const GROUND_ENV = 'VMOP_TEST_GROUND';
/** Name prefix of the test run's webhook configurations. */
export const WEBHOOK_PREFIX = 'vmop-test';

export type TestGround = GroundState & { managerHealthPort: number; webhookPort: number };

let cached: TestGround | undefined;

export function ground(): TestGround {
  if (cached) return cached;
  const file = process.env[GROUND_ENV];
  if (!file) {
    throw new Error(`${GROUND_ENV} is not set: run integration tests through \`npm test\` (test/run.ts)`);
  }
  cached = JSON.parse(readFileSync(file, 'utf8')) as TestGround;
  return cached;
}

export function client(as: 'admin' | 'user' = 'admin'): KubeClient {
  return new KubeClient(kubeConfigFrom(ground().kubeconfig, as));
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CommandResult> {
  try {
    const child = run(file, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 32 << 20 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * Runs the pinned kubectl against the ground (as admin unless `context` says otherwise); `path` is put first on
 * PATH (where kubectl looks for plugins).
 */
export function kubectl(
  args: string[],
  opts: { context?: 'admin' | 'user'; input?: string; path?: string } = {},
): Promise<CommandResult> {
  const g = ground();
  const context = ['--context', opts.context ?? 'admin'];
  return exec(
    g.tools.kubectl,
    // (A plugin gets its flags after its name: kubectl refuses flags before it.)
    opts.path ? [...args, ...context] : [...context, ...args],
    {
      KUBECONFIG: g.kubeconfig,
      ...(opts.path ? { PATH: `${opts.path}${path.delimiter}${process.env.PATH ?? ''}` } : {}),
    },
    opts.input,
  );
}

/** Runs govc against the ground's vcsim. */
export function govc(args: string[]): Promise<CommandResult> {
  const g = ground();
  return exec(g.tools.govc, args, { GOVC_URL: g.govcURL, GOVC_INSECURE: '1', GOVC_DATACENTER: 'DC0' });
}

/**
 * Properties of one vSphere object as govc reads them (`object.collect -json`), by property path; arrays,
 * which govc wraps as {_typeName, _value}, come unwrapped.
 */
export async function govcCollect(path: string, props: string[]): Promise<Record<string, unknown>> {
  const r = await govc(['object.collect', '-json', path, ...props]);
  if (r.code !== 0) throw new Error(`govc object.collect ${path} failed: ${r.stderr}`);
  const list = JSON.parse(r.stdout) as { name: string; val: unknown }[];
  return Object.fromEntries(
    list.map((p) => [
      p.name,
      typeof p.val === 'object' && p.val !== null && '_value' in p.val ? (p.val as { _value: unknown })._value : p.val,
    ]),
  );
}

/** Creates a namespace with a unique name for one test. */
export async function testNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const c = client();
  try {
    await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  } finally {
    c.close();
  }
  return name;
}

/** Lets the non-privileged user (group vmop:users) manage VirtualMachines in `ns`, as it may in my-namespace. */
export async function letUserManageVMs(ns: string): Promise<void> {
  const role = `vm-editor-${ns}`;
  await kubectl(['create', 'clusterrole', role, '--verb=*', '--resource=virtualmachines.vmoperator.vmware.com']);
  await kubectl(['create', 'rolebinding', 'vm-editor', `--clusterrole=${role}`, '--group=vmop:users', '-n', ns]);
}
