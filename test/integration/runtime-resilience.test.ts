// Informers that keep going when the network or the cluster is not as expected: a watch over a TCP proxy
// that silently stops forwarding (a half-open connection) is dropped after its idle deadline and resumed,
// and readiness says so meanwhile; an optional kind that is not served counts as empty (and is picked up
// once its CRD appears), while a required one keeps its controller from starting and readiness says why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller } from '../../src/runtime/controller.js';
import { Informer } from '../../src/runtime/informer.js';
import { Manager } from '../../src/runtime/manager.js';
import { KubeClient, type KubeObject } from '../../src/runtime/kube-client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { kubeConfigFrom } from '../../src/devenv/seed.js';
import { client, ground, testNamespace } from '../support/ground.js';
import { cuttableProxy, throughProxy } from '../support/tcp-proxy.js';
import { rawPath } from '../support/vm.js';
import { eventually } from '../support/vms.js';

describe('informer resilience', () => {
  let c: KubeClient;
  let ns: string;
  const logger = createLogger({ level: 'silent' });
  before(async () => {
    c = client();
    ns = await testNamespace('resilience');
  });
  after(() => c.close());

  it('drops a watch that went half-open, resumes it, and reports the stall meanwhile', async () => {
    const kc = kubeConfigFrom(ground().kubeconfig, 'admin');
    const server = new URL(kc.getCurrentCluster()!.server);
    const proxy = await cuttableProxy(server);
    throughProxy(kc, proxy);
    const viaProxy = new KubeClient(kc);
    const inf = new Informer(viaProxy, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      logger,
      watchIdleTimeoutMs: 1500,
      unhealthyAfterMs: 1000,
      backoffMs: { initial: 100, max: 500 },
    });
    try {
      inf.start();
      await inf.waitForSync();
      assert.equal(inf.health, undefined);
      proxy.cut = true; // the open watch now hears nothing, and neither does any new connection
      await c.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'during', namespace: ns } });
      const reported = await eventually('the stall reported', async () => inf.health, 30_000);
      assert.match(reported, /cache of ConfigMap \(v1\) not current/);
      assert.equal(inf.get(`${ns}/during`), undefined, 'nothing came through the black hole');
      proxy.cut = false;
      await eventually('the ConfigMap seen after the watch was resumed', async () => inf.get(`${ns}/during`), 30_000);
      await eventually('healthy again', async () => (inf.health === undefined ? true : undefined), 30_000);
    } finally {
      await inf.stop();
      viaProxy.close();
      proxy.close();
    }
  });

  it('treats an optional kind that is not served as empty, and picks it up once its CRD appears', async () => {
    const group = `${ns}.resilience.vmop.dev`;
    const inf = new Informer(c, {
      apiVersion: `${group}/v1`,
      kind: 'Gadget',
      logger,
      optional: true,
      optionalRecheckMs: 300,
    });
    const required = new Informer(c, {
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      logger,
      unhealthyAfterMs: 200,
    });
    const controller = new Controller({
      name: 'needs-widgets',
      reconciler: { reconcile: async () => undefined },
      sources: [{ informer: required }],
      logger,
    });
    // Run by a manager, as in the operator: its /readyz says why the controller cannot start.
    const manager = new Manager({
      kubeconfig: ground().kubeconfig,
      context: 'admin',
      healthHost: '127.0.0.1',
      healthPort: 0,
      logger,
    });
    manager.addLeaderElected(controller);
    const running = manager.run();
    try {
      inf.start();
      await inf.waitForSync();
      assert.deepEqual(inf.list(), []);
      assert.equal(inf.health, undefined);
      // The required kind keeps its controller waiting, and says why.
      const why = await eventually('the controller reports its missing kind', async () => controller.health(), 30_000);
      assert.match(why, /controller needs-widgets: cache of Widget .* not synced .*does not serve kind Widget/);
      assert.equal(required.hasSynced, false);
      const readyz = await fetch(`http://127.0.0.1:${manager.healthPort}/readyz`);
      assert.equal(readyz.status, 503);
      assert.match(await readyz.text(), /controllers: controller needs-widgets: cache of Widget/);

      await c.create({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `gadgets.${group}` },
        spec: {
          group,
          scope: 'Cluster',
          names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          ],
        },
      } as KubeObject);
      await eventually(
        'a Gadget created once the CRD is served',
        async () => {
          c.resetDiscovery();
          await c.create({ apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g1' } } as KubeObject);
          return true;
        },
        30_000,
      );
      await eventually('the optional informer sees it', async () => inf.get('g1'), 30_000);
    } finally {
      manager.stop();
      await running;
      await inf.stop();
      await c
        .request('DELETE', rawPath(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.${group}`))
        .catch(() => undefined);
    }
  });
});
