// Leader election with a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews the lease
// every retry period; another candidate takes it once it has not been renewed for the lease duration; a
// leader that cannot renew within the renew deadline gives up. Only the leader runs the controllers.
import type { Logger } from './logger.js';
import { KubeAPIError, type KubeClient, type KubeObject } from './kube-client.js';
import { apiPath, memberPath } from './api-path.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger?: Logger;
}

interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** The Lease's MicroTime format: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly leaseDuration: number;
  private readonly renewDeadline: number;
  private readonly retryPeriod: number;
  private leading = false;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.leaseDuration = opts.leaseDurationMs ?? 15_000;
    this.renewDeadline = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriod = opts.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** One attempt to acquire or renew; true when this candidate holds the lease afterwards. */
  async tryAcquireOrRenew(now = new Date()): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const path = apiPath({ apiVersion: 'coordination.k8s.io/v1', resource: 'leases', namespace });
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDuration / 1000),
      renewTime: microTime(now),
    };
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>('GET', memberPath(path, name));
    } catch (err) {
      if (!(err instanceof KubeAPIError && err.notFound)) throw err;
      try {
        await this.client.request('POST', path, {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
          },
        });
        return true;
      } catch (createErr) {
        if (createErr instanceof KubeAPIError && createErr.conflict) return false;
        throw createErr;
      }
    }
    const holder = lease.spec?.holderIdentity;
    const renewed = Date.parse(lease.spec?.renewTime ?? '') || 0;
    const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    const expired = !holder || renewed + duration < now.getTime();
    if (holder !== identity && !expired) return false;
    const next: Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        ...spec,
        acquireTime: holder === identity ? lease.spec?.acquireTime : microTime(now),
        leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      },
    };
    try {
      await this.client.request('PUT', memberPath(path, name), { body: next });
      return true;
    } catch (err) {
      if (err instanceof KubeAPIError && err.conflict) return false;
      throw err;
    }
  }

  /**
   * Campaigns until `signal` aborts: calls `onStarted` when it becomes leader and `onStopped` if it loses the
   * lease (it then stops campaigning; the process is expected to exit, as with client-go).
   */
  async run(signal: AbortSignal, onStarted: () => void, onStopped: () => void): Promise<void> {
    const log = this.opts.logger;
    let lastRenew = 0;
    while (!signal.aborted) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (err) {
        log?.warn({ err: err instanceof Error ? err.message : err }, 'leader election: cannot reach the lease');
      }
      const now = Date.now();
      if (ok) {
        lastRenew = now;
        if (!this.leading) {
          this.leading = true;
          log?.info(
            { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity },
            'became leader',
          );
          onStarted();
        }
      } else if (this.leading && now - lastRenew > this.renewDeadline) {
        this.leading = false;
        log?.error({ identity: this.opts.identity }, 'lost leadership: could not renew the lease in time');
        onStopped();
        return;
      }
      await new Promise((r) => setTimeout(r, this.retryPeriod));
    }
    if (this.leading) await this.release().catch(() => undefined);
  }

  /** Gives the lease up (on a clean shutdown), so another candidate takes over at once. */
  async release(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    const path = apiPath({ apiVersion: 'coordination.k8s.io/v1', resource: 'leases', namespace, name });
    const lease = await this.client.request<Lease>('GET', path);
    if (lease.spec?.holderIdentity !== identity) return;
    await this.client.request('PUT', path, {
      body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } },
    });
    this.leading = false;
  }
}
