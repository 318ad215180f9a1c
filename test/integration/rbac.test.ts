// Least privilege, checked against the real API server: the generated RBAC (config/rbac/rbac.yaml) is
// installed, a token is requested for the manager's ServiceAccount (TokenRequest), and a manager that has
// only that token runs a VM through its life (create, power off and on twice, restart, delete) with leader
// election on. No request may be forbidden, and every permission the roles grant the VM controller must
// have been used (the manager counts its requests by RBAC verb and resource).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { CLUSTER_RULES, grantedPermissions, MANAGER_NAME, NAMESPACE_RULES } from '../../src/install/rbac.js';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { client, ground } from '../support/ground.js';
import { OWN_MANAGER_LABEL, startOwnManager, type OwnManager } from '../support/manager.js';
import { scrape } from '../support/metrics.js';
import { patchVM, vmPath } from '../support/vm.js';
import { eventually, getVM, vm, vmName, vmNamespace, waitForGone, waitForPower } from '../support/vms.js';

/** The "group/resource:verb" a manager's requests needed (answered ones: 2xx or 4xx), from its /metrics. */
async function apiUsage(port: number): Promise<{ used: Set<string> }> {
  const used = new Set<string>();
  for (const { name, labels } of (await scrape(port)).samples) {
    if (name === 'vmop_kube_api_requests_total' && (labels.code === '2xx' || labels.code === '4xx'))
      used.add(`${labels.group}/${labels.resource}:${labels.verb}`);
  }
  return { used };
}

describe('least-privilege RBAC', () => {
  let c: KubeClient;
  let mgr: OwnManager | undefined;
  before(() => {
    c = client();
  });
  after(async () => {
    await mgr?.kill('SIGTERM');
    c.close();
  });

  it(
    'runs the VM lifecycle with only the generated roles, and uses every permission they grant the VM controller',
    { timeout: 180_000 },
    async () => {
      const g = ground();
      const manifest = await readFile(path.join(repoRoot(), 'config', 'rbac', 'rbac.yaml'), 'utf8');
      for (const doc of YAML.parseAllDocuments(manifest)) await c.apply(doc.toJSON() as KubeObject);
      const tr = await c.request<{ status: { token: string } }>(
        'POST',
        `/api/v1/namespaces/vmop-system/serviceaccounts/${MANAGER_NAME}/token`,
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } } },
      );
      const server = /server: (\S+)/.exec(await readFile(g.kubeconfig, 'utf8'))![1]!;
      const ca = (await readFile(g.caCert)).toString('base64');
      const kubeconfig = path.join(g.dir, `sa-${Date.now()}.kubeconfig`);
      await writeFile(
        kubeconfig,
        YAML.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'ground', cluster: { server, 'certificate-authority-data': ca } }],
          users: [{ name: MANAGER_NAME, user: { token: tr.status.token } }],
          contexts: [{ name: 'sa', context: { cluster: 'ground', user: MANAGER_NAME } }],
          'current-context': 'sa',
        }),
      );

      const ns = await vmNamespace('rbac');
      mgr = await startOwnManager({
        id: ns,
        kubeconfig,
        leaderElection: { namespace: 'vmop-system', identity: 'rbac-test' },
      });
      const name = vmName('rbac');
      await c.create(vm(ns, name, {}, { [OWN_MANAGER_LABEL]: ns }));
      await waitForPower(c, ns, name, 'PoweredOn', 60_000);
      for (let i = 0; i < 2; i++) {
        // The second round repeats the same Events, which bumps their count (get, patch).
        await patchVM(c, ns, name, { spec: { powerState: 'PoweredOff', powerOffMode: 'Hard' } });
        await waitForPower(c, ns, name, 'PoweredOff');
        await patchVM(c, ns, name, { spec: { powerState: 'PoweredOn' } });
        await waitForPower(c, ns, name, 'PoweredOn');
      }
      const restart = (await patchVM(c, ns, name, { spec: { nextRestartTime: 'now' } })) as unknown as {
        spec: { nextRestartTime: string };
      };
      await eventually('restarted', async () =>
        (await getVM(c, ns, name)).status?.lastRestartTime === restart.spec.nextRestartTime ? true : undefined,
      );
      await c.request('DELETE', vmPath(ns, name));
      await waitForGone(c, ns, name, 60_000);

      // The leader renews its Lease every 2 s (update); a quick lifecycle may finish before the first renewal.
      await eventually('lease renewed', async () => {
        const lease = await c.get<KubeObject & { spec: { acquireTime?: string; renewTime?: string } }>(
          'coordination.k8s.io/v1',
          'Lease',
          'vmop-controller-manager',
          'vmop-system',
        );
        return lease.spec.renewTime && lease.spec.renewTime !== lease.spec.acquireTime ? true : undefined;
      });
      const { used } = await apiUsage(mgr.healthPort);
      const granted = grantedPermissions([...CLUSTER_RULES, ...NAMESPACE_RULES], 'virtualmachine');
      assert.deepEqual(
        granted.filter((p) => !used.has(p)),
        [],
        'every permission granted to the VM controller is used',
      );
      const grantedAll = new Set(grantedPermissions([...CLUSTER_RULES, ...NAMESPACE_RULES]));
      assert.deepEqual(
        [...used].filter((p) => !grantedAll.has(p) && !p.includes('nonResource:')),
        [],
        'nothing is used that the roles do not grant',
      );
    },
  );
});
