// The secure metrics endpoint as Prometheus meets it: a manager of the test's own serves /metrics over HTTPS
// on --metrics-secure-addr; no token is 401, the token of a ServiceAccount without the right is 403, and one
// bound to ClusterRole vmop-metrics-reader (from the generated RBAC) gets the metrics.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { freePorts } from '../../src/devenv/processes.js';
import { repoRoot } from '../../src/devenv/toolchain.js';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { client, testNamespace } from '../support/ground.js';
import { startOwnManager, type OwnManager } from '../support/manager.js';
import { rawPath } from '../support/vm.js';
import { eventually } from '../support/vms.js';

function get(port: number, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port,
          path: '/metrics',
          rejectUnauthorized: false, // its certificate is self-signed here
          headers: token ? { Authorization: `Bearer ${token}` } : {},
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      )
      .on('error', reject);
  });
}

describe('secure metrics endpoint', () => {
  let c: KubeClient;
  let mgr: OwnManager | undefined;
  before(() => {
    c = client();
  });
  after(async () => {
    await mgr?.kill();
    c.close();
  });

  it('lets in only callers the cluster allows to get /metrics', { timeout: 90_000 }, async () => {
    const manifest = await readFile(path.join(repoRoot(), 'config', 'rbac', 'rbac.yaml'), 'utf8');
    for (const doc of YAML.parseAllDocuments(manifest)) await c.apply(doc.toJSON() as KubeObject);
    const ns = await testNamespace('metrics');
    const token = async (sa: string) => {
      await c.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns } });
      const tr = await c.request<{ status: { token: string } }>(
        'POST',
        rawPath(`/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`),
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } } },
      );
      return tr.status.token;
    };
    const scraper = await token('prometheus');
    const stranger = await token('stranger');
    await c.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${ns}-metrics-reader` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'vmop-metrics-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: ns }],
    } as KubeObject);

    const [port] = (await freePorts(1)) as [number];
    mgr = await startOwnManager({ id: ns, extraArgs: ['--metrics-secure-addr', `127.0.0.1:${port}`] });
    await eventually('the secure endpoint listens', async () => (await get(port).catch(() => undefined)) ?? undefined);

    assert.equal((await get(port)).status, 401);
    const denied = await get(port, stranger);
    assert.equal(denied.status, 403);
    assert.match(denied.body, /may not get \/metrics \(bind ClusterRole vmop-metrics-reader\)/);
    assert.equal((await get(port, 'not-a-token')).status, 401);
    const allowed = await eventually('the scraper let in', async () => {
      const r = await get(port, scraper);
      return r.status === 200 ? r : undefined;
    });
    assert.match(allowed.body, /^# TYPE controller_runtime_reconcile_total counter$/m);
  });
});
