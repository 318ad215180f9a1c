// Static addresses through the Cluster API IPAM contract, served by vmop's provider for its IPPool kind: 100
// VMs created at once on one pool get 100 distinct addresses (IPAddressClaim → IPAddress, shown in their
// intended network config), all released when the VMs are deleted; an exhausted pool is a clear condition on
// the VM, which is created as soon as an address is free again; a provider whose cache lags behind its own
// writes still gives a claim one address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_RULES, grantedPermissions, NAMESPACE_RULES } from '../../src/install/rbac.js';
import { Registry } from 'prom-client';
import { IPAMProvider } from '../../src/controllers/ipam/controller.js';
import { kubeConfigFrom } from '../../src/devenv/seed.js';
import type { APIPath } from '../../src/runtime/api-path.js';
import { KubeClient, type KubeObject, type RequestOptions } from '../../src/runtime/kube-client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { client, ground } from '../support/ground.js';
import { apiUsage } from '../support/metrics.js';
import { vmPath, rawPath } from '../support/vm.js';
import { condition, eventually, getVM, vm, vmNamespace, waitForGone, type VMObject } from '../support/vms.js';

const IPAM = '/apis/ipam.cluster.x-k8s.io/v1beta1';

/** A client whose informers see IPAddresses as they were at one past resourceVersion, with no news after it. */
class LaggingAddresses extends KubeClient {
  listedStale = false;
  constructor(
    kc: ConstructorParameters<typeof KubeClient>[0],
    private readonly at: string,
  ) {
    super(kc);
  }

  override request<T = unknown>(method: string, path: APIPath, opts: RequestOptions = {}): Promise<T> {
    // Only the informer's list of every address (no label selector) is served from the past.
    if (method === 'GET' && path.endsWith('/ipaddresses') && !opts.query?.labelSelector) {
      this.listedStale = true;
      return super.request<T>(method, path, {
        ...opts,
        query: { ...opts.query, resourceVersion: this.at, resourceVersionMatch: 'Exact' },
      });
    }
    return super.request<T>(method, path, opts);
  }

  override watch(...args: Parameters<KubeClient['watch']>): Promise<void> {
    const [path, , , signal] = args;
    if (!path.endsWith('/ipaddresses')) return super.watch(...args);
    return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
  }
}

function pool(ns: string, name: string, addresses: string[]): KubeObject {
  return {
    apiVersion: 'vmop.dev/v1alpha1',
    kind: 'IPPool',
    metadata: { name, namespace: ns },
    spec: { addresses, prefix: 24, gateway: '10.20.0.1' },
  };
}

function network(ns: string, poolName: string): KubeObject {
  return {
    apiVersion: 'vmop.dev/v1alpha1',
    kind: 'Network',
    metadata: { name: 'static', namespace: ns, labels: { 'vmop.dev/default-network': 'true' } },
    spec: { portGroup: 'DC0_DVPG1', ipPool: { name: poolName } },
  };
}

const addressOf = (o: VMObject) =>
  (o.status as { network?: { config?: { interfaces?: { ip?: { addresses?: string[]; gateway4?: string } }[] } } })
    .network?.config?.interfaces?.[0]?.ip;

describe('VM controller: IPAM', () => {
  let c: KubeClient;
  before(() => {
    c = client();
  });
  after(() => c.close());

  it(
    'gives 100 VMs created at once 100 distinct addresses from one pool, and takes them all back',
    { timeout: 300_000 },
    async () => {
      const ns = await vmNamespace('ipam');
      await c.create(pool(ns, 'hundred', ['10.20.0.10-10.20.0.139']));
      await c.create(network(ns, 'hundred'));
      const names = Array.from({ length: 100 }, (_, i) => `ip-${i}`);
      await Promise.all(names.map((n) => c.create(vm(ns, n))));
      const vms = await eventually(
        'every VM has its address',
        async () => {
          const list = await c.request<{ items: VMObject[] }>(
            'GET',
            rawPath(`/apis/vmoperator.vmware.com/v1alpha3/namespaces/${ns}/virtualmachines`),
          );
          return list.items.length === 100 && list.items.every((o) => addressOf(o)?.addresses?.length)
            ? list.items
            : undefined;
        },
        240_000,
      );
      const addresses = vms.map((o) => addressOf(o)!.addresses![0]!);
      assert.equal(new Set(addresses).size, 100, 'no address is handed out twice');
      for (const a of addresses) assert.match(a, /^10\.20\.0\.(\d+)\/24$/);
      assert.ok(vms.every((o) => addressOf(o)!.gateway4 === '10.20.0.1'));
      const objects = await c.request<{ items: { spec: { address: string } }[] }>(
        'GET',
        rawPath(`${IPAM}/namespaces/${ns}/ipaddresses`),
      );
      assert.equal(objects.items.length, 100);
      await eventually('pool status', async () => {
        const p = await c.get<KubeObject & { status?: { total?: number; used?: number } }>(
          'vmop.dev/v1alpha1',
          'IPPool',
          'hundred',
          ns,
        );
        return p.status?.total === 130 && p.status.used === 100 ? true : undefined;
      });

      await Promise.all(names.map((n) => c.request('DELETE', vmPath(ns, n))));
      await eventually(
        'every address released',
        async () => {
          const left = await c.request<{ items: unknown[] }>('GET', rawPath(`${IPAM}/namespaces/${ns}/ipaddresses`));
          const claims = await c.request<{ items: unknown[] }>(
            'GET',
            rawPath(`${IPAM}/namespaces/${ns}/ipaddressclaims`),
          );
          return left.items.length === 0 && claims.items.length === 0 ? true : undefined;
        },
        240_000,
      );
    },
  );

  it(
    'says so when the pool is exhausted, and creates the VM once an address is free',
    { timeout: 120_000 },
    async () => {
      const ns = await vmNamespace('ipfull');
      await c.create(pool(ns, 'one', ['10.20.0.50']));
      await c.create(network(ns, 'one'));
      await c.create(vm(ns, 'first'));
      const first = await eventually('first has the address', async () => {
        const o = await getVM(c, ns, 'first');
        return addressOf(o)?.addresses?.length ? o : undefined;
      });
      assert.deepEqual(addressOf(first)!.addresses, ['10.20.0.50/24']);
      await c.create(vm(ns, 'second'));
      const waiting = await eventually('PoolExhausted', async () => {
        const o = await getVM(c, ns, 'second');
        return condition(o, 'VirtualMachineNetworkReady')?.reason === 'PoolExhausted' ? o : undefined;
      });
      assert.match(
        condition(waiting, 'VirtualMachineNetworkReady')!.message,
        /interface eth0: IPPool "one" has no free address \(1 of 1 in use\)/,
      );
      assert.equal(waiting.status?.uniqueID, undefined, 'not created without its address');

      await c.request('DELETE', vmPath(ns, 'first'));
      await waitForGone(c, ns, 'first', 60_000);
      const second = await eventually(
        'second gets the address',
        async () => {
          const o = await getVM(c, ns, 'second');
          return addressOf(o)?.addresses?.[0] === '10.20.0.50/24' && o.status?.uniqueID ? o : undefined;
        },
        60_000,
      );
      assert.equal(condition(second, 'VirtualMachineNetworkReady')?.status, 'True');
    },
  );

  it(
    'gives a claim no second address when its cache has not yet seen the one the claim holds',
    { timeout: 120_000 },
    async () => {
      const ns = await vmNamespace('ipstale');
      /** The claim "held" as the API server has it. */
      const heldClaim = (namespace: string) =>
        c.get<KubeObject & { status?: { addressRef?: { name: string } } }>(
          'ipam.cluster.x-k8s.io/v1beta1',
          'IPAddressClaim',
          'held',
          namespace,
        );
      await c.create(pool(ns, 'three', ['10.20.0.60-10.20.0.62']));
      const before = await c.request<{ metadata: { resourceVersion: string } }>(
        'GET',
        rawPath(`${IPAM}/namespaces/${ns}/ipaddresses`),
      );
      await c.create({
        apiVersion: 'ipam.cluster.x-k8s.io/v1beta1',
        kind: 'IPAddressClaim',
        metadata: { name: 'held', namespace: ns },
        spec: { poolRef: { apiGroup: 'vmop.dev', kind: 'IPPool', name: 'three' } },
      });
      const answered = await eventually('the shared manager answers the claim', async () => {
        return (await heldClaim(ns)).status?.addressRef?.name;
      });

      // A second provider whose view of the addresses is the API server's own from before the address was made
      // (listed at that resourceVersion), its address watch silent: a cache that lags, as one can.
      const stale = new LaggingAddresses(kubeConfigFrom(ground().kubeconfig, 'admin'), before.metadata.resourceVersion);
      const registry = new Registry();
      const provider = new IPAMProvider({ client: stale, logger: createLogger({ level: 'silent' }), registry });
      const stop = new AbortController();
      const running = provider.start(stop.signal);
      try {
        await eventually('the lagging provider reconciled the claim and the pool', async () => {
          const m = await registry.getSingleMetric('controller_runtime_reconcile_total')?.get();
          const done = (m?.values ?? []).reduce((n, v) => n + v.value, 0);
          return done >= 2 && stale.listedStale ? true : undefined;
        });
      } finally {
        stop.abort();
        await running.catch(() => undefined);
        stale.close();
      }
      const addresses = await c.request<{ items: { metadata: { name: string } }[] }>(
        'GET',
        rawPath(`${IPAM}/namespaces/${ns}/ipaddresses`),
      );
      assert.deepEqual(
        addresses.items.map((a) => a.metadata.name),
        [answered],
        'the claim holds the one address it was given',
      );
      assert.equal((await heldClaim(ns)).status?.addressRef?.name, answered);
    },
  );

  it('used every permission the generated roles grant the IPAM provider alone (after the tests above)', async () => {
    const { used } = await apiUsage(ground().managerHealthPort);
    const rules = [...CLUSTER_RULES, ...NAMESPACE_RULES];
    assert.deepEqual(
      grantedPermissions(rules, 'ipam', { explicitOnly: true }).filter((p) => !used.has(p)),
      [],
      'every permission granted to the IPAM provider is used',
    );
  });
});
