// Long vSphere operations of VMs (deploy, hard power operations with the bootstrap writes before a power-on,
// disk attaches and detaches, a running VM's CD-ROM connections, a move to another zone, destroy) run beside the reconcile, never inside it: a reconcile starts one and
// returns; when it ends, its VM is queued again and the next reconcile takes the outcome. No worker waits on
// a task, so slow deploys never hold up another VM's power-off. A VM has at most one operation at a time;
// creates in flight are bounded (a real vCenter queues what it cannot run).
import { reconcileLogger } from '../../runtime/controller.js';
import { errorMessage } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import { Gauge, type Registry } from 'prom-client';

const OPERATION_KINDS = ['create', 'power', 'volumes', 'reconfigure', 'relocate', 'destroy'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

interface OperationBase {
  kind: OperationKind;
  /** What it does, for messages ("powerOn", "deploying image X in zone Y"). */
  what: string;
  since: number;
  /** What the reconcile that started it needs to know when it ends (e.g. the restart it carries out). */
  info?: unknown;
}

export type Operation =
  | (OperationBase & { state: 'running' })
  | (OperationBase & { state: 'done'; value: unknown })
  | (OperationBase & { state: 'failed'; error: unknown });

/** An ended operation, as the reconcile after it takes it. */
export type EndedOperation = Exclude<Operation, { state: 'running' }>;

/** The default bound on creates in flight (each is a deploy vCenter runs for tens of seconds). */
export const DEFAULT_MAX_CONCURRENT_CREATES = 32;

export class Operations {
  private readonly ops = new Map<string, Operation>();
  /** The operations running now, for a stop to wait on. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Keys whose operation is still running but whose VM object is gone: their outcome is dropped. */
  private readonly forgotten = new Set<string>();

  constructor(
    private readonly opts: {
      /** Queues the VM again (its operation ended). */
      wake: (key: string) => void;
      /** Says when an operation starts and ends (with the keys of the reconcile that started it). */
      logger?: Logger;
      /** A create ended, so a slot is free: the controller wakes VMs that wait for one. */
      onCreateEnded?: () => void;
      maxConcurrentCreates?: number;
      registry?: Registry;
    },
  ) {
    if (opts.registry) {
      const ops = this.ops;
      new Gauge({
        name: 'vmop_vsphere_operations_in_flight',
        help: 'Long vSphere operations (create, power, volumes, reconfigure, relocate, destroy) running beside the reconciles, by kind.',
        labelNames: ['kind'],
        registers: [opts.registry],
        collect() {
          this.reset();
          for (const kind of OPERATION_KINDS) this.set({ kind }, 0);
          for (const op of ops.values()) if (op.state === 'running') this.inc({ kind: op.kind });
        },
      });
    }
  }

  get maxConcurrentCreates(): number {
    return this.opts.maxConcurrentCreates ?? DEFAULT_MAX_CONCURRENT_CREATES;
  }

  /** The VM's operation: running, or ended and not yet taken. */
  get(key: string): Operation | undefined {
    return this.ops.get(key);
  }

  /** Creates running now. */
  get creating(): number {
    let n = 0;
    for (const op of this.ops.values()) if (op.kind === 'create' && op.state === 'running') n++;
    return n;
  }

  /**
   * Starts `run` as the VM's operation. False (and nothing started) when the VM has one already, or when it
   * is a create and the creates in flight are at their bound: a create that ends wakes the waiting VMs.
   */
  start(key: string, kind: OperationKind, what: string, run: () => Promise<unknown>, info?: unknown): boolean {
    if (this.ops.has(key)) return false;
    if (kind === 'create' && this.creating >= this.maxConcurrentCreates) return false;
    this.forgotten.delete(key);
    const since = Date.now();
    const base: OperationBase = { kind, what, since, ...(info !== undefined ? { info } : {}) };
    this.ops.set(key, { ...base, state: 'running' });
    const log = this.opts.logger && reconcileLogger(this.opts.logger);
    log?.info({ operation: kind, what }, 'vSphere operation started');
    const end = (op: Operation) => {
      const ms = Date.now() - since;
      if (op.state === 'failed')
        log?.warn({ operation: kind, what, ms, err: errorMessage(op.error) }, 'vSphere operation failed');
      else log?.info({ operation: kind, what, ms }, 'vSphere operation ended');
      if (this.forgotten.delete(key)) this.ops.delete(key);
      else this.ops.set(key, op);
      this.opts.wake(key);
      if (kind === 'create') this.opts.onCreateEnded?.();
    };
    // Started on the next turn, so the caller's bookkeeping comes first whatever `run` does synchronously.
    const done: Promise<void> = Promise.resolve()
      .then(run)
      .then(
        (value) => end({ ...base, state: 'done', value }),
        (error: unknown) => end({ ...base, state: 'failed', error }),
      )
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
    return true;
  }

  /** Takes the outcome of the VM's ended operation (then it is forgotten); undefined while it runs. */
  take(key: string): EndedOperation | undefined {
    const op = this.ops.get(key);
    if (!op || op.state === 'running') return undefined;
    this.ops.delete(key);
    return op;
  }

  /**
   * Resolves once every operation running now has ended: a manager that stops (and so hands its Lease on)
   * must not leave vSphere work behind that the next leader could cross.
   */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** The VM object is gone: an ended outcome is dropped now, a running one when it ends. */
  forget(key: string): void {
    const op = this.ops.get(key);
    if (op?.state === 'running') this.forgotten.add(key);
    else this.ops.delete(key);
  }
}
