// A keyed work queue: a key waits at most once however often it is added, one worker handles a key at a time
// (a key added while it is being handled runs again afterwards), failed keys come back with per-key
// exponential backoff, `addAfter` schedules a later run, and a token bucket bounds the overall rate.

export interface WorkQueueOptions {
  concurrency: number;
  /** Per-key backoff after failures: initial × 2^(failures-1), capped. */
  backoff?: { initialMs: number; maxMs: number };
  /** Overall rate limit (token bucket). */
  rate?: { perSecond: number; burst: number };
}

export type Handler = (key: string) => Promise<void>;

/** What the queue reports for client-go's workqueue metrics (metrics.ts turns it into workqueue_*). */
export interface WorkQueueObserver {
  added(): void;
  /** A key left the queue for a worker after waiting `waitedMs`. */
  started(waitedMs: number): void;
  /** A worker finished a key after `tookMs`. */
  finished(tookMs: number): void;
  retried(): void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys added again while they were being handled. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private tokens: number;
  private lastRefill = Date.now();
  private active = 0;
  private stopped = false;
  private pumpTimer?: NodeJS.Timeout;
  private idleWaiters: (() => void)[] = [];
  /** When each queued key was added, and when each key being handled started (for the metrics). */
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  observer?: WorkQueueObserver;

  constructor(
    private readonly handler: Handler,
    private readonly opts: WorkQueueOptions,
  ) {
    this.tokens = opts.rate?.burst ?? Infinity;
  }

  get length(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.active;
  }

  /** How long the keys being handled now have run: in all, and the longest (ms). */
  running(now = Date.now()): { totalMs: number; longestMs: number } {
    let totalMs = 0;
    let longestMs = 0;
    for (const t of this.startedAt.values()) {
      totalMs += now - t;
      longestMs = Math.max(longestMs, now - t);
    }
    return { totalMs, longestMs };
  }

  /** Whether `key` is queued, being handled, or scheduled for later. */
  holds(key: string): boolean {
    return this.queued.has(key) || this.processing.has(key) || this.timers.has(key);
  }

  add(key: string): void {
    if (this.stopped) return;
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.addedAt.set(key, Date.now());
    this.observer?.added();
    this.pump();
  }

  /** Adds `key` after `ms` (an earlier add wins; a later addAfter replaces a pending one). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  /** Forgets a key's failures (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Schedules the key again after its backoff; returns the delay. */
  retry(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const b = this.opts.backoff ?? { initialMs: 100, maxMs: 60_000 };
    const delay = Math.min(b.initialMs * 2 ** (n - 1), b.maxMs);
    this.observer?.retried();
    this.addAfter(key, delay);
    return delay;
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
  }

  /** Stops, forgets the waiting keys, and resolves once the handlers that run have finished. */
  drain(): Promise<void> {
    this.stop();
    this.queue.length = 0;
    this.queued.clear();
    this.addedAt.clear();
    this.dirty.clear();
    return this.idle();
  }

  /** Resolves when nothing is queued or running (timers may still be pending). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private takeToken(): number {
    const rate = this.opts.rate;
    if (!rate) return 0;
    const now = Date.now();
    this.tokens = Math.min(rate.burst, this.tokens + ((now - this.lastRefill) / 1000) * rate.perSecond);
    this.lastRefill = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / rate.perSecond) * 1000);
  }

  private pump(): void {
    while (!this.stopped && this.active < this.opts.concurrency && this.queue.length > 0) {
      const wait = this.takeToken();
      if (wait > 0) {
        this.pumpTimer ??= setTimeout(() => {
          this.pumpTimer = undefined;
          this.pump();
        }, wait);
        return;
      }
      const key = this.queue.shift() as string;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      const started = Date.now();
      this.observer?.started(started - (this.addedAt.get(key) ?? started));
      this.addedAt.delete(key);
      this.startedAt.set(key, started);
      void this.handler(key)
        .catch(() => undefined)
        .finally(() => {
          this.active--;
          this.processing.delete(key);
          this.startedAt.delete(key);
          this.observer?.finished(Date.now() - started);
          if (this.dirty.delete(key)) this.add(key);
          this.pump();
          if (this.queue.length === 0 && this.active === 0) {
            for (const w of this.idleWaiters.splice(0)) w();
          }
        });
    }
  }
}
