// Leader election with a coordination.k8s.io/v1 Lease, by client-go's rules: the holder renews the lease
// every retry period; another candidate takes it once it has seen no change of the lease for the lease
// duration, timed by its own clock (never by comparing the holder's renewTime with it, so skewed clocks do
// not matter); a renew attempt never outlasts the renew deadline, which is shorter than the lease; a leader
// that cannot renew in time stops at once; a clean shutdown releases the lease only after the leader's work
// has drained. Only the leader runs the controllers.
import { pause } from './timeout.js';
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
  /** The lease record last seen (holder, renew time, version) and when this process saw it change. */
  private observed?: { record: string; at: number };

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.leaseDuration = opts.leaseDurationMs ?? 15_000;
    this.renewDeadline = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriod = opts.retryPeriodMs ?? 2_000;
    if (!(this.renewDeadline < this.leaseDuration)) {
      throw new Error('leader election: the renew deadline must be shorter than the lease duration');
    }
    if (!(this.retryPeriod < this.renewDeadline)) {
      throw new Error('leader election: the retry period must be shorter than the renew deadline');
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * One attempt to acquire or renew; true when this candidate holds the lease afterwards. Each request of
   * it is bounded by `timeoutMs` (so a whole attempt ends before the renew deadline).
   */
  async tryAcquireOrRenew(now = new Date(), timeoutMs = this.renewDeadline / 2): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const path = apiPath({ apiVersion: 'coordination.k8s.io/v1', resource: 'leases', namespace });
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDuration / 1000),
      renewTime: microTime(now),
    };
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>('GET', memberPath(path, name), { timeoutMs });
    } catch (err) {
      if (!(err instanceof KubeAPIError && err.notFound)) throw err;
      try {
        await this.client.request('POST', path, {
          timeoutMs,
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
    // Expiry by this process's own observation: the lease counts as renewed when its record changed.
    const record = `${holder}/${lease.spec?.renewTime}/${lease.metadata.resourceVersion}`;
    if (this.observed?.record !== record) this.observed = { record, at: now.getTime() };
    const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    const expired = !holder || this.observed.at + duration < now.getTime();
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
      const written = await this.client.request<Lease>('PUT', memberPath(path, name), { body: next, timeoutMs });
      this.observed = {
        record: `${identity}/${written.spec?.renewTime}/${written.metadata.resourceVersion}`,
        at: now.getTime(),
      };
      return true;
    } catch (err) {
      if (err instanceof KubeAPIError && err.conflict) return false;
      throw err;
    }
  }

  /**
   * Campaigns until `signal` aborts: calls `onStarted` when it becomes leader and `onStopped` if it loses the
   * lease (it then stops campaigning; the process is expected to exit at once, as with client-go). On abort,
   * a leader waits for `drained` (its work finishing) before it releases the lease.
   */
  async run(
    signal: AbortSignal,
    onStarted: () => void,
    onStopped: () => void,
    drained: () => Promise<unknown> = async () => undefined,
  ): Promise<void> {
    const log = this.opts.logger;
    let lastRenew = 0;
    while (!signal.aborted) {
      const ok = await this.attempt(lastRenew);
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
      } else if (this.overdue(lastRenew)) {
        this.leading = false;
        log?.error({ identity: this.opts.identity }, 'lost leadership: could not renew the lease in time');
        onStopped();
        return;
      }
      await pause(signal, this.retryPeriod);
    }
    if (!this.leading) return;
    // Keep the lease while the work drains (renewing it), so no other replica starts on the same objects.
    let done = false;
    const work = drained().finally(() => (done = true));
    while (!done) {
      await Promise.race([work, new Promise((r) => setTimeout(r, this.retryPeriod))]);
      if (done) break;
      if (await this.attempt(lastRenew)) lastRenew = Date.now();
      else if (this.overdue(lastRenew)) {
        this.leading = false;
        log?.error({ identity: this.opts.identity }, 'lost leadership while shutting down');
        onStopped();
        return;
      }
    }
    await this.release().catch(() => undefined);
  }

  /**
   * One attempt to acquire or renew, bounded so that a leader's ends before its renew deadline (a candidate's
   * within half of it); an error counts as a failed attempt.
   */
  private async attempt(lastRenew: number): Promise<boolean> {
    const left = this.leading ? lastRenew + this.renewDeadline - Date.now() : this.renewDeadline / 2;
    try {
      return await this.tryAcquireOrRenew(new Date(), Math.max(100, Math.min(this.renewDeadline / 2, left)));
    } catch (err) {
      this.opts.logger?.warn(
        { err: err instanceof Error ? err.message : err },
        'leader election: cannot reach the lease',
      );
      return false;
    }
  }

  /** The leader has not renewed within its renew deadline: it must stop acting. */
  private overdue(lastRenew: number): boolean {
    return this.leading && Date.now() - lastRenew > this.renewDeadline;
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
