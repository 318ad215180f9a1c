// Least privilege, checked against the real API server: the generated RBAC (config/rbac/rbac.yaml) is
// installed, a token is requested for the manager's ServiceAccount (TokenRequest), and a manager that has
// only that token runs a VM through its life (create, power off and on twice, restart, delete) with leader
// election on and its webhooks serving with the certificate it issues, renews and injects itself. No request
// may be forbidden, and every permission the roles grant the VM controller and the webhook certificates must
// have been used (the manager counts its requests by RBAC verb and resource).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { freePorts } from '../../src/devenv/processes.js';
import {
  CLUSTER_RULES,
  grantedPermissions,
  MANAGER_NAME,
  NAMESPACE_RULES,
  WEBHOOK_CERT_SECRET,
  WEBHOOK_CONFIGURATIONS,
} from '../../src/install/rbac.js';
import { webhookConfigurations, type WebhookConfigurationObject } from '../../src/install/webhook-configuration.js';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { client, ground, kubectl } from '../support/ground.js';
import { OWN_MANAGER_LABEL, startOwnManager, type OwnManager } from '../support/manager.js';
import { apiUsage, scrape } from '../support/metrics.js';
import { patchVM, vmPath, rawPath } from '../support/vm.js';
import { eventually, getVM, vm, vmName, vmNamespace, waitForGone, waitForPower } from '../support/vms.js';

describe('least-privilege RBAC', () => {
  let c: KubeClient;
  let mgr: OwnManager | undefined;
  before(() => {
    c = client();
  });
  let configs: WebhookConfigurationObject[] = [];
  after(async () => {
    await mgr?.kill('SIGTERM');
    for (const cfg of configs) await c.delete(cfg as unknown as KubeObject).catch(() => undefined);
    c.close();
  });

  it(
    'runs the VM lifecycle and webhook certificates with only the generated roles, and uses every permission they grant',
    { timeout: 180_000 },
    async () => {
      const g = ground();
      const manifest = await readFile(path.join(repoRoot(), 'config', 'rbac', 'rbac.yaml'), 'utf8');
      for (const doc of YAML.parseAllDocuments(manifest)) await c.apply(doc.toJSON() as KubeObject);
      const tr = await c.request<{ status: { token: string } }>(
        'POST',
        rawPath(`/api/v1/namespaces/vmop-system/serviceaccounts/${MANAGER_NAME}/token`),
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
      // Webhooks on, with the certificate the manager keeps in the generated RBAC's Secret and the caBundle
      // it injects into the configurations the RBAC names (here by URL, and only for this namespace).
      const [webhookPort] = (await freePorts(1)) as [number];
      configs = webhookConfigurations('vmop', {
        kind: 'url',
        baseURL: `https://127.0.0.1:${webhookPort}`,
        caBundle: '',
      }).map((cfg) => ({
        ...cfg,
        webhooks: cfg.webhooks.map((w) => ({
          ...w,
          clientConfig: { url: (w.clientConfig as { url: string }).url },
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
          // The shared test manager's mutating webhook already converts nextRestartTime "now" to a time, which
          // a second one refuses (as VM Operator's would): ours mutates nothing here, it only gets a caBundle.
          ...(cfg.kind === 'MutatingWebhookConfiguration'
            ? { objectSelector: { matchLabels: { 'vmop.test/never': 'true' } } }
            : {}),
        })),
      }));
      assert.deepEqual(
        configs.map((cfg) => cfg.metadata.name),
        WEBHOOK_CONFIGURATIONS,
      );
      for (const cfg of configs) await c.apply(cfg as unknown as KubeObject);
      const secretPath = `/api/v1/namespaces/vmop-system/secrets/${WEBHOOK_CERT_SECRET}`;
      await c.request('DELETE', rawPath(secretPath)).catch(() => undefined); // so the manager creates it
      mgr = await startOwnManager({
        id: ns,
        kubeconfig,
        leaderElection: { namespace: 'vmop-system', identity: 'rbac-test' },
        extraArgs: [
          '--webhook-cert-secret',
          WEBHOOK_CERT_SECRET,
          '--webhook-addr',
          `127.0.0.1:${webhookPort}`,
          '--webhook-cert-hosts',
          '127.0.0.1',
          // Short, so that it is renewed (an update) during the test.
          '--webhook-cert-validity',
          '12s',
        ],
      });
      await eventually('caBundle injected', async () => {
        for (const cfg of configs) {
          const o = await c.get<KubeObject & { webhooks: { clientConfig: { caBundle?: string } }[] }>(
            cfg.apiVersion,
            cfg.kind,
            cfg.metadata.name,
          );
          if (!o.webhooks.every((w) => w.clientConfig.caBundle)) return undefined;
        }
        return true;
      });
      const firstVersion = (await c.request<KubeObject>('GET', rawPath(secretPath))).metadata.resourceVersion;
      const name = vmName('rbac');
      // A static address through IPAM (the test run's manager serves the pool): claims made and released.
      await c.create({
        apiVersion: 'vmop.dev/v1alpha1',
        kind: 'IPPool',
        metadata: { name: 'pool', namespace: ns },
        spec: { addresses: ['10.30.0.10-10.30.0.20'], prefix: 24, gateway: '10.30.0.1' },
      });
      await c.create({
        apiVersion: 'vmop.dev/v1alpha1',
        kind: 'Network',
        metadata: { name: 'static', namespace: ns, labels: { 'vmop.dev/default-network': 'true' } },
        spec: { portGroup: 'DC0_DVPG1', ipPool: { name: 'pool' } },
      });
      // Cloud-Init user data from a Secret in the VM's namespace: read with the ServiceAccount's token too.
      await c.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'user-data', namespace: ns },
        stringData: { 'user-data': '#cloud-config\nruncmd: [echo hello]\n' },
      });
      await c.create(
        vm(
          ns,
          name,
          { bootstrap: { cloudInit: { rawCloudConfig: { name: 'user-data', key: 'user-data' } } } },
          { [OWN_MANAGER_LABEL]: ns },
        ),
      );
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
      await eventually(
        'certificate renewed',
        async () =>
          (await c.request<KubeObject>('GET', rawPath(secretPath))).metadata.resourceVersion !== firstVersion
            ? true
            : undefined,
        30_000,
      );
      const { used, forbidden } = await apiUsage(mgr.healthPort);
      assert.deepEqual(forbidden, [], 'no request was forbidden');
      const granted = [
        // (Implicit ones, such as an owner's finalizers, are checked by the API server, not requested.)
        ...grantedPermissions([...CLUSTER_RULES, ...NAMESPACE_RULES], 'virtualmachine', { explicitOnly: true }),
        ...grantedPermissions([...CLUSTER_RULES, ...NAMESPACE_RULES], 'webhooks', { explicitOnly: true }),
      ];
      const admitted = (await scrape(mgr.healthPort)).samples.filter(
        (x) => x.name === 'vmop_webhook_requests_total' && x.value > 0,
      );
      assert.ok(admitted.length > 0, 'the VM went through the managers webhooks');
      // (The ground's CRDs convert through the shared manager by URL, which a replica's rotator leaves alone; its
      // patch of a CRD that converts through its Service is exercised in storage-migration.test.)
      const elsewhere = new Set(['apiextensions.k8s.io/customresourcedefinitions:patch']);
      assert.deepEqual(
        granted.filter((p) => !used.has(p) && !elsewhere.has(p)),
        [],
        'every permission granted to the VM controller and the webhook certificates is used',
      );
      const grantedAll = new Set(grantedPermissions([...CLUSTER_RULES, ...NAMESPACE_RULES]));
      assert.deepEqual(
        [...used].filter((p) => !grantedAll.has(p) && !p.includes('nonResource:')),
        [],
        'nothing is used that the roles do not grant',
      );
    },
  );

  it('gives users of the built-in view, edit and admin roles the VM kinds, as for built-in kinds (aggregation)', async () => {
    const manifest = await readFile(path.join(repoRoot(), 'config', 'rbac', 'rbac.yaml'), 'utf8');
    for (const doc of YAML.parseAllDocuments(manifest)) await c.apply(doc.toJSON() as KubeObject);
    const ns = await vmNamespace('aggregate');
    for (const [user, role] of [
      ['viewer', 'view'],
      ['editor', 'edit'],
    ] as const) {
      await c.create({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `${user}-${role}`, namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      } as KubeObject);
    }
    const can = async (user: string, verb: string, resource: string) =>
      (await kubectl(['auth', 'can-i', verb, resource, '-n', ns, '--as', user])).stdout.trim();
    // kube-controller-manager folds the labelled roles into view/edit/admin (within moments).
    await eventually('edit aggregated', async () =>
      (await can('editor', 'create', 'virtualmachines.vmoperator.vmware.com')) === 'yes' ? true : undefined,
    );
    await eventually('view aggregated', async () =>
      (await can('viewer', 'list', 'virtualmachines.vmoperator.vmware.com')) === 'yes' ? true : undefined,
    );
    assert.equal(await can('viewer', 'create', 'virtualmachines.vmoperator.vmware.com'), 'no');
    assert.equal(await can('viewer', 'get', 'clustervirtualmachineimages.vmoperator.vmware.com'), 'yes');
    assert.equal(await can('editor', 'create', 'virtualmachineclasses.vmoperator.vmware.com'), 'no');
  });
});
