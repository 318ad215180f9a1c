// A controller: informers feed keys into a work queue; workers call the reconciler, whose result or typed
// error (errors.ts) decides what happens next (requeue after a delay, back off, requeue at once on a conflict,
// or wait for a change of input the user must fix). Reconcile counts, durations, errors and queue depth go to Prometheus.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Informer, InformerEvent } from './informer.js';
import { objectKey } from './informer.js';
import { KubeAPIError, type KubeObject } from './kube-client.js';
import type { Logger } from './logger.js';
import type { Runnable } from './manager.js';
import { WorkQueue } from './workqueue.js';
import { errorMessage, RetryAfterError, UserInputError } from './errors.js';
import { untilAborted } from './timeout.js';

export interface ReconcileResult {
  /** Reconcile this key again after this long (a long wait, e.g. for a task or TrySoft, without a worker). */
  requeueAfterMs?: number;
}

const reconcileScope = new AsyncLocalStorage<{ log: () => Logger }>();

/**
 * The logger of the reconcile this code runs in (controller, namespace, name, reconcileID), or `fallback`
 * outside one.
 */
export function reconcileLogger(fallback: Logger): Logger {
  return reconcileScope.getStore()?.log() ?? fallback;
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
  errors: Counter<'controller'>;
  duration: Histogram<'controller'>;
  /** The controllers of the registry, by name: their workers busy now, worker count and queue. */
  workers: Map<string, { busy: () => number; max: number; queue: WorkQueue }>;
  queue: {
    adds: Counter<'name' | 'controller'>;
    retries: Counter<'name' | 'controller'>;
    wait: Histogram<'name' | 'controller'>;
    work: Histogram<'name' | 'controller'>;
  };
}

const metricsByRegistry = new WeakMap<Registry, Metrics>();

/** client-go's workqueue buckets: 1 µs to 10 s by tens. */
const QUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10];

/**
 * The metrics of controller-runtime and client-go under their own names (controller_runtime_*, workqueue_*),
 * so stock dashboards and alerts for controller-runtime operators work unchanged.
 */
function metricsFor(registry: Registry): Metrics {
  let m = metricsByRegistry.get(registry);
  if (!m) {
    const workers = new Map<string, { busy: () => number; max: number; queue: WorkQueue }>();
    const perController = (
      name: string,
      help: string,
      value: (w: { busy: () => number; max: number; queue: WorkQueue }) => number,
      labels: 'controller' | 'workqueue' = 'controller',
    ) =>
      new Gauge({
        name,
        help,
        labelNames: labels === 'controller' ? ['controller'] : ['name', 'controller'],
        registers: [registry],
        collect() {
          for (const [controller, w] of workers) {
            this.set(labels === 'controller' ? { controller } : { name: controller, controller }, value(w));
          }
        },
      });
    perController('controller_runtime_active_workers', 'Number of currently used workers per controller.', (w) =>
      w.busy(),
    );
    perController(
      'controller_runtime_max_concurrent_reconciles',
      'Maximum number of concurrent reconciles per controller.',
      (w) => w.max,
    );
    perController('workqueue_depth', 'Current depth of workqueue.', (w) => w.queue.length, 'workqueue');
    perController(
      'workqueue_unfinished_work_seconds',
      "How many seconds of work has been done that is in progress and hasn't been observed by work_duration.",
      (w) => w.queue.running().totalMs / 1000,
      'workqueue',
    );
    perController(
      'workqueue_longest_running_processor_seconds',
      'How many seconds has the longest running processor for workqueue been running.',
      (w) => w.queue.running().longestMs / 1000,
      'workqueue',
    );
    const queueLabels = ['name', 'controller'] as const;
    m = {
      workers,
      total: new Counter({
        name: 'controller_runtime_reconcile_total',
        help: 'Total number of reconciliations per controller.',
        labelNames: ['controller', 'result'],
        registers: [registry],
      }),
      errors: new Counter({
        name: 'controller_runtime_reconcile_errors_total',
        help: 'Total number of reconciliation errors per controller.',
        labelNames: ['controller'],
        registers: [registry],
      }),
      duration: new Histogram({
        name: 'controller_runtime_reconcile_time_seconds',
        help: 'Length of time per reconciliation per controller.',
        labelNames: ['controller'],
        buckets: [
          0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
          1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
        ],
        registers: [registry],
      }),
      queue: {
        adds: new Counter({
          name: 'workqueue_adds_total',
          help: 'Total number of adds handled by workqueue.',
          labelNames: queueLabels,
          registers: [registry],
        }),
        retries: new Counter({
          name: 'workqueue_retries_total',
          help: 'Total number of retries handled by workqueue.',
          labelNames: queueLabels,
          registers: [registry],
        }),
        wait: new Histogram({
          name: 'workqueue_queue_duration_seconds',
          help: 'How long in seconds an item stays in workqueue before being requested.',
          labelNames: queueLabels,
          buckets: QUEUE_BUCKETS,
          registers: [registry],
        }),
        work: new Histogram({
          name: 'workqueue_work_duration_seconds',
          help: 'How long in seconds processing an item from workqueue takes.',
          labelNames: queueLabels,
          buckets: QUEUE_BUCKETS,
          registers: [registry],
        }),
      },
    };
    metricsByRegistry.set(registry, m);
  }
  return m;
}

/** controller-runtime's result label for each way a reconcile ends here. */
const RESULT_LABEL: Record<string, string> = {
  success: 'success',
  requeue_after: 'requeue_after',
  retry_after: 'requeue_after',
  conflict: 'requeue',
  // Input the user must fix: the reconcile did its work (the condition says why); not an operator error.
  user_input: 'success',
  error: 'error',
};

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
      const labels = { name: opts.name, controller: opts.name };
      m.workers.set(opts.name, { busy: () => this.queue.inFlight, max: opts.concurrency ?? 4, queue: this.queue });
      for (const c of [m.queue.adds, m.queue.retries]) c.inc(labels, 0);
      m.total.inc({ controller: opts.name, result: 'success' }, 0);
      m.errors.inc({ controller: opts.name }, 0);
      this.queue.observer = {
        added: () => m.queue.adds.inc(labels),
        retried: () => m.queue.retries.inc(labels),
        started: (ms) => m.queue.wait.observe(labels, ms / 1000),
        finished: (ms) => m.queue.work.observe(labels, ms / 1000),
      };
    }
    for (const source of opts.sources) {
      source.informer.on((event, obj) => {
        for (const key of source.keys ? source.keys(obj, event) : [objectKey(obj)]) this.queue.add(key);
      });
    }
  }

  private async handle(key: string): Promise<void> {
    // controller-runtime's per-reconcile keys: the controller, the object's namespace and name, and an ID.
    const [namespace, name] = key.includes('/') ? key.split('/', 2) : ['', key];
    // (Made only when something is logged: most reconciles log nothing.)
    const reconcileID = randomUUID();
    const log = () =>
      this.opts.logger.child({
        // (Not twice when the controller's own logger names it already.)
        ...('controller' in this.opts.logger.bindings() ? {} : { controller: this.name }),
        namespace,
        name,
        reconcileID,
      });
    const m = this.opts.registry ? metricsFor(this.opts.registry) : undefined;
    const end = m?.duration.startTimer({ controller: this.name });
    let result = 'success';
    try {
      // The reconciler's own log lines carry the same keys (reconcileLogger), as do operations it starts.
      const r = await reconcileScope.run({ log }, () => this.opts.reconciler.reconcile(key, this.signal));
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
        log().warn({ reason: err.reason, err: err.message }, 'reconcile refused its input; waiting for a change');
      } else if (err instanceof KubeAPIError && err.conflict) {
        result = 'conflict';
        this.queue.add(key);
      } else if (err instanceof RetryAfterError) {
        result = 'retry_after';
        this.queue.addAfter(key, err.afterMs);
      } else {
        result = 'error';
        const delay = this.queue.retry(key);
        log().warn({ err: errorMessage(err), retryInMs: delay }, 'reconcile failed; will retry');
      }
    } finally {
      end?.();
      m?.total.inc({ controller: this.name, result: RESULT_LABEL[result] ?? result });
      if (result === 'error') m?.errors.inc({ controller: this.name });
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
    const stopped = untilAborted(signal);
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
