// vmop's IPAM provider for the Cluster API IPAM contract: IPAddressClaims whose poolRef is a vmop.dev IPPool
// get an IPAddress and status.addressRef. Each address is an object named after the pool and the address,
// so the API server itself refuses a second holder (409), whatever the cache says and however many workers
// or replicas allocate at once. Addresses are owned by their claim: deleting the claim releases the address
// (deleted here at once, and by the garbage collector through the owner reference anyway). An exhausted pool
// is a Ready=False condition on the claim, not an error loop; the claim is looked at again when an address
// of the pool is released. The cache may lag behind the provider's own writes (the claim's status change can
// arrive before the address it names), so before a claim is given an address the API server itself is asked
// whether it already holds one: a claim never gets two.
import type { Registry } from 'prom-client';
import { CAPI_IPAM_API_VERSION } from '../../api/vmop/ipam.js';
import { NETWORK_API_VERSION, NETWORK_GROUP } from '../../api/vmop/network.js';
import { Controller } from '../../runtime/controller.js';
import { SharedCache } from '../../runtime/cache.js';
import { parseRefKey, refKey } from '../../runtime/object-ref.js';
import { Informer } from '../../runtime/informer.js';
import { KubeAPIError, type KubeClient, type KubeObject } from '../../runtime/kube-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Runnable } from '../../runtime/manager.js';
import { setCondition, type Condition } from '../../runtime/status.js';
import { addressObjectName, expandPool } from './addresses.js';
import { apiPath } from '../../runtime/api-path.js';

export interface PoolRef {
  apiGroup: string;
  kind: string;
  name: string;
}

export interface Claim extends KubeObject {
  metadata: KubeObject['metadata'] & { uid?: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { poolRef: PoolRef };
  status?: { addressRef?: { name: string }; conditions?: Condition[] };
}

export interface Address extends KubeObject {
  spec: { claimRef: { name: string }; poolRef: PoolRef; address: string; prefix: number; gateway?: string };
}

interface Pool extends KubeObject {
  spec: { addresses: string[]; prefix: number; gateway?: string };
  status?: { total?: number; used?: number };
}

export interface IPAMProviderOptions {
  client: KubeClient;
  logger: Logger;
  registry?: Registry;
  /** The manager's shared cache (one informer per kind per process); a private one when omitted. */
  cache?: SharedCache;
}

const KINDS = ['IPAddressClaim', 'IPPool'] as const;
/** The queue key of a claim or a pool (namespace/name). */
const claimKey = (namespace: string | undefined, name: string) => refKey({ kind: 'IPAddressClaim', namespace, name });
const poolKey = (namespace: string | undefined, name: string) => refKey({ kind: 'IPPool', namespace, name });
const POOL_LABEL = 'ipam.vmop.dev/pool';
/** The UID of the claim an address was made for: what the API server is asked before a second one is made. */
const CLAIM_UID_LABEL = 'ipam.vmop.dev/claim-uid';
/** Label values are at most 63 characters; a longer pool name is not written as a label. */
const MAX_LABEL_VALUE = 63;
/** Indexes of claims and addresses by the pool they name, and of addresses by their claim ("namespace/name"). */
const BY_POOL = 'ipam.pool';
const BY_CLAIM = 'ipam.claim';

const ours = (ref: PoolRef | undefined) => ref?.apiGroup === NETWORK_GROUP && ref.kind === 'IPPool';

export class IPAMProvider implements Runnable {
  readonly name = 'ipam';
  private readonly claims: Informer<Claim>;
  private readonly addresses: Informer<Address>;
  private readonly pools: Informer<Pool>;
  private readonly controller: Controller;

  constructor(private readonly opts: IPAMProviderOptions) {
    const { client, logger } = opts;
    const cache = opts.cache ?? new SharedCache(client, logger);
    this.claims = cache.informer<Claim>({ apiVersion: CAPI_IPAM_API_VERSION, kind: 'IPAddressClaim' });
    this.addresses = cache.informer<Address>({ apiVersion: CAPI_IPAM_API_VERSION, kind: 'IPAddress' });
    this.pools = cache.informer<Pool>({ apiVersion: NETWORK_API_VERSION, kind: 'IPPool' });
    this.claims.addIndex(BY_POOL, (c) =>
      ours(c.spec?.poolRef) ? [`${c.metadata.namespace}/${c.spec.poolRef.name}`] : [],
    );
    this.addresses.addIndex(BY_POOL, (a) =>
      ours(a.spec?.poolRef) ? [`${a.metadata.namespace}/${a.spec.poolRef.name}`] : [],
    );
    this.addresses.addIndex(BY_CLAIM, (a) =>
      a.spec?.claimRef?.name ? [`${a.metadata.namespace}/${a.spec.claimRef.name}`] : [],
    );
    const claimsOfPool = (ns: string | undefined, pool: string) =>
      this.claims.byIndex(BY_POOL, `${ns}/${pool}`).map((c) => claimKey(ns, String(c.metadata.name)));
    this.controller = new Controller({
      name: this.name,
      reconciler: { reconcile: (key) => this.reconcile(key) },
      sources: [
        {
          informer: this.claims as unknown as Informer,
          keys: (c) => [claimKey(c.metadata.namespace, String(c.metadata.name))],
        },
        {
          informer: this.addresses as unknown as Informer,
          // An address that comes or goes changes its claim, its pool's count, and (when freed) the waiting claims.
          keys: (a, event) => {
            const ns = a.metadata.namespace;
            const spec = (a as Address).spec;
            return [
              claimKey(ns, spec.claimRef.name),
              poolKey(ns, spec.poolRef.name),
              ...(event === 'delete' ? claimsOfPool(ns, spec.poolRef.name) : []),
            ];
          },
        },
        {
          informer: this.pools as unknown as Informer,
          keys: (p) => [
            poolKey(p.metadata.namespace, String(p.metadata.name)),
            ...claimsOfPool(p.metadata.namespace, String(p.metadata.name)),
          ],
        },
      ],
      concurrency: 4,
      logger,
      registry: opts.registry,
    });
  }

  health(): string | undefined {
    return this.controller.health();
  }

  async start(signal: AbortSignal): Promise<void> {
    await this.controller.start(signal);
  }

  private reconcile(key: string): Promise<void> {
    const ref = parseRefKey(key, KINDS);
    return ref.kind === 'IPAddressClaim' ? this.allocate(ref.key) : this.count(ref.key);
  }

  private addressesOfPool(ns: string, pool: string): Address[] {
    return this.addresses.byIndex(BY_POOL, `${ns}/${pool}`);
  }

  private async allocate(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const claim = this.claims.get(key);
    const held = this.addresses.byIndex(BY_CLAIM, key);
    if (!claim || claim.metadata.deletionTimestamp) {
      // Released: the address goes with the claim (the garbage collector would also do it, later).
      for (const a of held.filter((x) => ours(x.spec.poolRef))) await this.deleteAddress(a);
      return;
    }
    const ref = claim.spec?.poolRef;
    if (!ours(ref)) return;
    const mine = held.find((a) => a.spec.poolRef.name === ref.name) ?? (await this.heldLive(claim, ref.name));
    if (mine) return this.answer(claim, { addressRef: mine.metadata.name!, ready: true });
    const pool = this.pools.get(`${ns}/${ref.name}`);
    if (!pool) {
      return this.answer(claim, {
        ready: false,
        reason: 'PoolNotFound',
        message: `IPPool "${ref.name}" not found in namespace ${ns}`,
      });
    }
    const expanded = expandPool(pool.spec.addresses ?? [], pool.spec.gateway);
    if ('error' in expanded) {
      return this.answer(claim, {
        ready: false,
        reason: 'InvalidPool',
        message: `IPPool "${ref.name}": ${expanded.error}`,
      });
    }
    const used = new Set(this.addressesOfPool(ns, ref.name).map((a) => a.spec.address));
    for (const ip of expanded.addresses) {
      if (used.has(ip)) continue;
      const address: Address = {
        apiVersion: CAPI_IPAM_API_VERSION,
        kind: 'IPAddress',
        metadata: {
          name: addressObjectName(ref.name, ip),
          namespace: ns,
          labels: {
            ...(ref.name.length <= MAX_LABEL_VALUE ? { [POOL_LABEL]: ref.name } : {}),
            ...(claim.metadata.uid ? { [CLAIM_UID_LABEL]: claim.metadata.uid } : {}),
          },
          ownerReferences: [
            {
              apiVersion: CAPI_IPAM_API_VERSION,
              kind: 'IPAddressClaim',
              name,
              uid: claim.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {
          claimRef: { name },
          poolRef: ref,
          address: ip,
          prefix: pool.spec.prefix,
          ...(pool.spec.gateway ? { gateway: pool.spec.gateway } : {}),
        },
      };
      try {
        await this.opts.client.create(address);
      } catch (err) {
        // Another claim got it first (our cache had not seen it yet): try the next one.
        if (err instanceof KubeAPIError && err.statusCode === 409) continue;
        throw err;
      }
      this.opts.logger.info({ claim: key, address: ip, pool: ref.name }, 'address allocated');
      return this.answer(claim, { addressRef: address.metadata.name!, ready: true });
    }
    return this.answer(claim, {
      ready: false,
      reason: 'PoolExhausted',
      message: `IPPool "${ref.name}" has no free address (${used.size} of ${expanded.addresses.length} in use)`,
    });
  }

  /**
   * The claim's address from the pool as the API server has it now (a consistent read), for when the cache
   * shows none: the cache may not have caught up with an address made for this claim a moment ago.
   */
  private async heldLive(claim: Claim, pool: string): Promise<Address | undefined> {
    if (!claim.metadata.uid) return undefined;
    const list = await this.opts.client.request<{ items: Address[] }>(
      'GET',
      apiPath({ apiVersion: CAPI_IPAM_API_VERSION, resource: 'ipaddresses', namespace: claim.metadata.namespace }),
      { query: { labelSelector: `${CLAIM_UID_LABEL}=${claim.metadata.uid}` } },
    );
    return list.items.find((a) => a.spec?.claimRef?.name === claim.metadata.name && a.spec.poolRef?.name === pool);
  }

  /** Writes the claim's status (addressRef and the Ready condition), when it changes. */
  private async answer(
    claim: Claim,
    a: { addressRef?: string; ready: boolean; reason?: string; message?: string },
  ): Promise<void> {
    const conditions = setCondition(claim.status?.conditions, {
      type: 'Ready',
      status: a.ready ? 'True' : 'False',
      reason: a.ready ? 'AddressAllocated' : a.reason!,
      message: a.message ?? '',
    });
    const status = { ...(a.addressRef ? { addressRef: { name: a.addressRef } } : {}), conditions };
    if (JSON.stringify(status) === JSON.stringify(claim.status ?? {})) return;
    await this.opts.client.request(
      'PATCH',
      apiPath({
        apiVersion: CAPI_IPAM_API_VERSION,
        resource: 'ipaddressclaims',
        namespace: claim.metadata.namespace,
        name: String(claim.metadata.name),
        subresource: 'status',
      }),
      { contentType: 'application/merge-patch+json', body: { status } },
    );
  }

  private async deleteAddress(a: Address): Promise<void> {
    await this.opts.client.deleteIfPresent(
      apiPath({
        apiVersion: CAPI_IPAM_API_VERSION,
        resource: 'ipaddresses',
        namespace: a.metadata.namespace,
        name: String(a.metadata.name),
      }),
    );
    this.opts.logger.info({ address: a.spec.address, pool: a.spec.poolRef.name }, 'address released');
  }

  /** The pool's status: how many addresses it has and how many are handed out. */
  private async count(key: string): Promise<void> {
    const pool = this.pools.get(key);
    if (!pool) return;
    const expanded = expandPool(pool.spec.addresses ?? [], pool.spec.gateway);
    const total = 'addresses' in expanded ? expanded.addresses.length : 0;
    const used = this.addressesOfPool(pool.metadata.namespace!, String(pool.metadata.name)).length;
    if (pool.status?.total === total && pool.status.used === used) return;
    await this.opts.client.request(
      'PATCH',
      apiPath({
        apiVersion: NETWORK_API_VERSION,
        resource: 'ippools',
        namespace: pool.metadata.namespace,
        name: String(pool.metadata.name),
        subresource: 'status',
      }),
      { contentType: 'application/merge-patch+json', body: { status: { total, used } } },
    );
  }
}
