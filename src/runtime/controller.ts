// A controller: informers feed keys into a work queue; workers call the reconciler, whose result or typed
// error (errors.ts) decides what happens next (requeue after a delay, back off, requeue at once on a conflict,
// or wait for a change of input the user must fix). Reconcile counts, durations, errors and queue depth go to Prometheus.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Informer, InformerEvent } from './informer.js';
import { objectKey } from './informer.js';
import { KubeAPIError, type KubeObject } from './kube-client.js';
import type { Logger } from './logger.js';
import type { Runnable } from './manager.js';
import { WorkQueue } from './workqueue.js';
import { errorMessage, RetryAfterError, UserInputError } from './errors.js';

export interface ReconcileResult {
  /** Reconcile this key again after this long (a long wait, e.g. for a task or TrySoft, without a worker). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void>;
}

export interface WatchSource<T extends KubeObject = KubeObject> {
  informer: Informer<T>;
  /** Keys to reconcile for an event on `obj`; the object's own key by default. */
  keys?: (obj: T, event: InformerEvent) => string[];
}

export interface ControllerOptions {
  name: string;
  reconciler: Reconciler;
  sources: WatchSource[];
  concurrency?: number;
  logger: Logger;
  registry?: Registry;
  backoff?: { initialMs: number; maxMs: number };
  rate?: { perSecond: number; burst: number };
}

interface Metrics {
  total: Counter<'controller' | 'result'>;
  duration: Histogram<'controller'>;
  depth: Gauge<'controller'>;
  /** The controllers of the registry, by name: their workers busy now and their worker count. */
  workers: Map<string, { busy: () => number; max: number }>;
}

const metricsByRegistry = new WeakMap<Registry, Metrics>();

function metricsFor(registry: Registry): Metrics {
  let m = metricsByRegistry.get(registry);
  if (!m) {
    const workers = new Map<string, { busy: () => number; max: number }>();
    // controller-runtime's names, so stock dashboards show how busy the workers are.
    new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Workers running a reconcile now, by controller.',
      labelNames: ['controller'],
      registers: [registry],
      collect() {
        for (const [controller, w] of workers) this.set({ controller }, w.busy());
      },
    });
    new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Workers (reconciles at once) of each controller.',
      labelNames: ['controller'],
      registers: [registry],
      collect() {
        for (const [controller, w] of workers) this.set({ controller }, w.max);
      },
    });
    m = {
      workers,
      total: new Counter({
        name: 'vmop_reconcile_total',
        help: 'Reconciles by controller and result.',
        labelNames: ['controller', 'result'],
        registers: [registry],
      }),
      duration: new Histogram({
        name: 'vmop_reconcile_duration_seconds',
        help: 'Time per reconcile.',
        labelNames: ['controller'],
        buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
        registers: [registry],
      }),
      depth: new Gauge({
        name: 'vmop_workqueue_depth',
        help: 'Keys waiting in the work queue.',
        labelNames: ['controller'],
        registers: [registry],
      }),
    };
    metricsByRegistry.set(registry, m);
  }
  return m;
}

export class Controller implements Runnable {
  readonly name: string;
  readonly queue: WorkQueue;
  private signal = new AbortController().signal;

  constructor(private readonly opts: ControllerOptions) {
    this.name = opts.name;
    this.queue = new WorkQueue((key) => this.handle(key), {
      concurrency: opts.concurrency ?? 4,
      backoff: opts.backoff,
      rate: opts.rate,
    });
    if (opts.registry) {
      // Registered now, so dashboards and alerts see the series before the first reconcile.
      const m = metricsFor(opts.registry);
      m.depth.set({ controller: opts.name }, 0);
      m.workers.set(opts.name, { busy: () => this.queue.inFlight, max: opts.concurrency ?? 4 });
    }
    for (const source of opts.sources) {
      source.informer.on((event, obj) => {
        for (const key of source.keys ? source.keys(obj, event) : [objectKey(obj)]) this.queue.add(key);
      });
    }
  }

  private async handle(key: string): Promise<void> {
    const log = this.opts.logger;
    const m = this.opts.registry ? metricsFor(this.opts.registry) : undefined;
    const end = m?.duration.startTimer({ controller: this.name });
    let result = 'success';
    try {
      const r = await this.opts.reconciler.reconcile(key, this.signal);
      this.queue.forget(key);
      if (r?.requeueAfterMs !== undefined) {
        result = 'requeue_after';
        this.queue.addAfter(key, r.requeueAfterMs);
      }
    } catch (err) {
      if (err instanceof UserInputError) {
        // A reconciler that shows such errors in status catches them; one that reaches here is only logged,
        // and looked at again when the object changes or the recheck is due.
        result = 'user_input';
        this.queue.forget(key);
        if (err.recheckAfterMs !== undefined) this.queue.addAfter(key, err.recheckAfterMs);
        log.warn(
          { controller: this.name, key, reason: err.reason, err: err.message },
          'reconcile refused its input; waiting for a change',
        );
      } else if (err instanceof KubeAPIError && err.conflict) {
        result = 'conflict';
        this.queue.add(key);
      } else if (err instanceof RetryAfterError) {
        result = 'retry_after';
        this.queue.addAfter(key, err.afterMs);
      } else {
        result = 'error';
        const delay = this.queue.retry(key);
        log.warn(
          { controller: this.name, key, err: errorMessage(err), retryInMs: delay },
          'reconcile failed; will retry',
        );
      }
    } finally {
      end?.();
      m?.total.inc({ controller: this.name, result });
      m?.depth.set({ controller: this.name }, this.queue.length);
    }
  }

  /** The first source whose cache cannot sync or stay current, for readiness. */
  health(): string | undefined {
    for (const s of this.opts.sources) {
      const problem = s.informer.health;
      if (problem) return `controller ${this.name}: ${problem}`;
    }
    return undefined;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    const stopped = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    for (const s of this.opts.sources) s.informer.start();
    // A stop must not wait for caches that cannot fill (the API server is unreachable).
    await Promise.race([Promise.all(this.opts.sources.map((s) => s.informer.waitForSync())), stopped]);
    if (!signal.aborted) this.opts.logger.info({ controller: this.name }, 'caches synced; reconciling');
    await stopped;
    // Reconciles under way finish (and log) before the manager says it stopped.
    await this.queue.drain();
    await Promise.all(this.opts.sources.map((s) => s.informer.stop()));
  }
}
