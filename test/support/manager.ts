// Managers that a test starts itself, beside the shared one: they run only the VM controller and only for
// VMs labelled vmop.test/manager=<id> (the shared manager skips those), so a test can kill, restart or
// starve them of vCenter without disturbing other tests.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePorts } from '../../src/devenv/processes.js';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { OPERATOR_NAMESPACE } from '../../src/devenv/seed.js';
import type { KubeObject } from '../../src/runtime/kube-client.js';
import { client, ground, testNamespace } from './ground.js';

export const OWN_MANAGER_LABEL = 'vmop.test/manager';

export interface OwnManager {
  proc: ChildProcess;
  healthPort: number;
  /** Exit code, once it exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startOwnManager(opts: {
  id: string;
  /** Where its provider configuration lives; vmop-system (the shared vcsim) by default. */
  namespace?: string;
  leaderElection?: { namespace: string; identity: string };
  extraArgs?: string[];
  log?: boolean;
  /** A kubeconfig of its own (a ServiceAccount token, say) instead of the ground's admin. */
  kubeconfig?: string;
  controllers?: string;
}): Promise<OwnManager> {
  const g = ground();
  const [healthPort] = (await freePorts(1)) as [number];
  const proc = spawn(
    process.execPath,
    [
      path.join(repoRoot(), 'bin', 'vmop.js'),
      'manager',
      '--kubeconfig',
      opts.kubeconfig ?? g.kubeconfig,
      ...(opts.kubeconfig ? [] : ['--context', 'admin']),
      '--health-addr',
      `127.0.0.1:${healthPort}`,
      '--controllers',
      opts.controllers ?? 'virtualmachine',
      '--vm-selector',
      `${OWN_MANAGER_LABEL}=${opts.id}`,
      ...(opts.namespace ? ['--namespace', opts.namespace] : []),
      ...(opts.leaderElection
        ? [
            '--leader-elect',
            '--leader-election-namespace',
            opts.leaderElection.namespace,
            '--leader-election-id',
            opts.leaderElection.identity,
          ]
        : []),
      // Orphaned VMs are the shared manager's to collect (a test can count them there).
      '--orphan-grace',
      'off',
      ...(opts.extraArgs ?? []),
    ],
    { stdio: opts.log ? ['ignore', 'inherit', 'inherit'] : 'ignore' },
  );
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    healthPort,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

type ConfigMap = KubeObject & { data: Record<string, string> };

/**
 * An operator namespace of a test's own for its managers (`--namespace`): the shared provider ConfigMap and
 * vCenter credentials copied into it, with `config` over the ConfigMap's keys (another vCenter, say).
 */
export async function ownOperatorNamespace(prefix: string, config: Record<string, string> = {}): Promise<string> {
  const c = client();
  try {
    const ns = await testNamespace(prefix);
    const cm = await c.get<ConfigMap>('v1', 'ConfigMap', 'vmop-provider-config', OPERATOR_NAMESPACE);
    const secretName = cm.data.credentialsSecret ?? 'vmop-vcenter-credentials';
    const secret = await c.get<ConfigMap>('v1', 'Secret', secretName, OPERATOR_NAMESPACE);
    await c.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName, namespace: ns },
      data: secret.data,
    });
    await c.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'vmop-provider-config', namespace: ns },
      data: { ...cm.data, ...config },
    });
    return ns;
  } finally {
    c.close();
  }
}
