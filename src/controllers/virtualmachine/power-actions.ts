// Power actions of a created VM: bring it to spec.powerState (hard, soft or TrySoft, per decidePower), write
// its bootstrap data right before a power-on from PoweredOff, and restart it when spec.nextRestartTime asks.
// A hard operation — with the bootstrap writes before a power-on, and a reset — is a task that runs beside the
// reconcile (operations.ts), and the reconcile after its end takes the outcome (finish); soft operations under
// way are remembered here, by key: their end arrives through the change feed and the TrySoft timeout is a
// requeue.
import type { PowerState } from '../../api/v1alpha6/virtualmachine.js';
import type { ObservedVM, VMProvider } from '../../providers/interface.js';
import { errorMessage, UserInputError } from '../../runtime/errors.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import { conditionFalse, conditionTrue, updateStatus, type ConditionUpdate } from '../../runtime/status.js';
import type { GuestBootstrap } from './bootstrap.js';
import { CONDITIONS } from './dependencies.js';
import { HARDWARE_RECONFIGURED } from './hardware.js';
import type { NetworkConfig } from './network-config.js';
import type { EndedOperation, Operations } from './operations.js';
import { decidePower, restartDue, restartOp } from './power.js';
import type { VM, VMStatus } from './types.js';
import { withTimeout } from '../../runtime/timeout.js';

export const DEFAULT_TRYSOFT_TIMEOUT_MS = 5 * 60 * 1000;

/** True once the guest's bootstrap data (Cloud-Init) was written for the last power-on; False while it cannot be. */
export const BOOTSTRAP_READY = 'VirtualMachineBootstrapReady';

/** A vSphere write a power-on from PoweredOff does first, with the condition that says whether it was done. */
interface PowerOnWrite {
  condition: string;
  run: () => Promise<void>;
}

/** What a power operation carries besides the operation: the writes before a power-on, or a restart. */
interface PowerOpInfo {
  /** The conditions the power-on makes True when it succeeds (its writes done, the bootstrap prepared). */
  writes?: string[];
  restart?: { next: string; previous?: string };
}

/** A write before a power-on failed (the power-on was not tried). */
class PowerOnWriteError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly condition: string,
  ) {
    super(errorMessage(cause));
  }
}

/** What each write is, for messages, and the condition reason of its failure. */
const WRITES: Record<string, { what: string; reason: string }> = {
  [BOOTSTRAP_READY]: { what: "writing the guest's bootstrap data", reason: 'BootstrapFailed' },
  [CONDITIONS.guestID]: { what: 'setting the guest ID', reason: 'ReconfigureFailed' },
  [HARDWARE_RECONFIGURED]: { what: 'upgrading the hardware or growing the boot disk', reason: 'ReconfigureFailed' },
};

/** How a power operation ended, for the reconcile after it. */
export interface PowerEnd {
  justPoweredOn: boolean;
  /** The writes before the power-on were done (their conditions True). */
  conditions?: ConditionUpdate[];
  /** It failed: the condition to show, and the error the reconcile ends with (a retry with backoff, or a refusal). */
  failed?: { error: unknown; condition: ConditionUpdate; evenIfThere?: boolean };
}

export interface PowerOutcome {
  observed: ObservedVM;
  requeueAfterMs?: number;
  justPoweredOn: boolean;
  waitingForVolumes?: boolean;
  bootstrap?: ConditionUpdate;
  /** A power task was started (it runs beside the reconcile). */
  started?: boolean;
}

export class PowerActions {
  /** Soft power operations under way, by key: the state they aim at and when they were issued. */
  private readonly softOps = new Map<string, { target: PowerState; since: number }>();

  constructor(
    private readonly opts: {
      client: KubeClient;
      provider: VMProvider;
      bootstrap: GuestBootstrap;
      operations: Operations;
      event: (...args: Parameters<EventRecorder['record']>) => void;
      trySoftTimeoutMs?: number;
    },
  ) {}

  forget(key: string): void {
    this.softOps.delete(key);
  }

  private get trySoftTimeoutMs(): number {
    return this.opts.trySoftTimeoutMs ?? DEFAULT_TRYSOFT_TIMEOUT_MS;
  }

  /** Moves the VM toward spec.powerState by one step (or none), writing bootstrap data before a power-on. */
  async reconcile(
    key: string,
    vm: VM,
    observed: ObservedVM,
    justCreated: boolean,
    volumesPending: string[],
    networkConfig: NetworkConfig,
    /** The hardware changes vSphere does not hold yet (hardware.ts), written before a power-on from off. */
    hardware?: () => Promise<void>,
  ): Promise<PowerOutcome> {
    const spec = vm.spec ?? {};
    const desired = spec.powerState ?? 'PoweredOn';
    let soft = this.softOps.get(key);
    if (soft && soft.target !== desired) {
      this.softOps.delete(key);
      soft = undefined;
    }
    const decide = (o: ObservedVM) =>
      decidePower({
        desired,
        observed: o.powerState,
        powerOffMode: spec.powerOffMode ?? 'TrySoft',
        suspendMode: spec.suspendMode ?? 'TrySoft',
        toolsRunning: o.toolsRunning,
        softSince: soft?.since,
        now: Date.now(),
        trySoftTimeoutMs: this.trySoftTimeoutMs,
      });
    let decision = decide(observed);
    if (decision.kind === 'op' && !justCreated) {
      // The cache may be a moment behind: act on what vSphere says now (power state, VM Tools for TrySoft).
      observed = await this.opts.provider.refreshVM(observed);
      decision = decide(observed);
    }
    if (decision.kind === 'none') {
      this.softOps.delete(key);
      return { observed, justPoweredOn: false };
    }
    if (decision.kind === 'wait') return { observed, requeueAfterMs: decision.ms, justPoweredOn: false };
    // A VM starts with all its volumes (as VM Operator does); a claim or volume that changes wakes it again.
    if (decision.op === 'powerOn' && volumesPending.length > 0) {
      return { observed, justPoweredOn: false, waitingForVolumes: true };
    }
    // Cloud-Init reads its data at boot: write it (with the NICs' MAC addresses) right before each power-on
    // from PoweredOff. LinuxPrep and Sysprep customize the guest once, before its first power-on. The data is
    // prepared now (Secrets read) and written by the power-on's operation, before it powers on. A guest ID
    // changed while the VM was off is applied then too (the spec: "when … powering on an existing VM").
    // Only from PoweredOff: a suspended VM resumes where it was, and vSphere reconfigures only powered-off VMs.
    const writes: PowerOnWrite[] = [];
    const fromOff = decision.op === 'powerOn' && observed.powerState === 'PoweredOff';
    const guestID = spec.guestID;
    if (fromOff && guestID && guestID !== observed.guestID) {
      writes.push({ condition: CONDITIONS.guestID, run: () => this.opts.provider.setGuestID(observed, guestID) });
    }
    if (fromOff && hardware) writes.push({ condition: HARDWARE_RECONFIGURED, run: hardware });
    const customize = this.opts.bootstrap.needsCustomization(vm);
    const bootstrap = fromOff && !!(spec.bootstrap?.cloudInit || customize || spec.bootstrap?.vAppConfig);
    if (bootstrap) {
      const write = (run: () => Promise<void>) => writes.push({ condition: BOOTSTRAP_READY, run });
      try {
        if (spec.bootstrap?.cloudInit) write(await this.opts.bootstrap.cloudInit(vm, observed, networkConfig));
        else if (customize) write(await this.opts.bootstrap.customization(vm, observed, networkConfig));
        // (Properties vSphere holds already need no write; the bootstrap is ready all the same.)
        const vApp = spec.bootstrap?.vAppConfig && (await this.opts.bootstrap.vAppProperties(vm, observed));
        if (vApp) write(vApp);
      } catch (err) {
        if (!(err instanceof UserInputError)) throw err;
        // Shown in status while the rest of the reconcile goes on; looked at again when the error says (a
        // missing Secret sooner than a guest customization vSphere refused).
        this.opts.event(vm, 'Warning', err.reason, err.message);
        return {
          observed,
          justPoweredOn: false,
          requeueAfterMs: err.recheckAfterMs,
          bootstrap: conditionFalse(BOOTSTRAP_READY, err.reason, err.message),
        };
      }
    }
    if (decision.soft) {
      // Through the guest: vSphere only passes the request on (no task); the guest takes its time.
      try {
        await this.opts.provider.power(observed, decision.op);
      } catch (err) {
        this.opts.event(vm, 'Warning', 'PowerOperationFailed', `${decision.op} failed: ${errorMessage(err)}; retrying`);
        throw err;
      }
      this.opts.event(vm, 'Normal', 'PowerOperation', `${decision.op} (${decision.reason})`);
      this.softOps.set(key, { target: desired, since: Date.now() });
      // The change feed reports the new state when the guest gets there; this requeue is the timeout check.
      return { observed, requeueAfterMs: Math.min(this.trySoftTimeoutMs, 10_000), justPoweredOn: false };
    }
    this.softOps.delete(key);
    // A task: it runs beside the reconcile (operations.ts); its end queues the VM again.
    const op = decision.op;
    // The conditions the power-on makes True: those of its writes, and the bootstrap's once prepared.
    const ready = new Set([...writes.map((w) => w.condition), ...(bootstrap ? [BOOTSTRAP_READY] : [])]);
    const info: PowerOpInfo = ready.size > 0 ? { writes: [...ready] } : {};
    const started = this.opts.operations.start(
      key,
      'power',
      op,
      async () => {
        for (const w of writes)
          await w.run().catch((err: unknown) => Promise.reject(new PowerOnWriteError(err, w.condition)));
        await this.opts.provider.power(observed, op);
        return op;
      },
      info,
    );
    // The first power-on of a new VM is part of creating it ("Created" says so); later ones are news.
    if (started && !justCreated) this.opts.event(vm, 'Normal', 'PowerOperation', `${op} (${decision.reason})`);
    return { observed, justPoweredOn: false, started };
  }

  /**
   * Takes the end of a power task: whether it powered the VM on and wrote its bootstrap data, or (with an
   * Event) the condition that says it failed — the caller writes the status and then retries with backoff (or,
   * for bootstrap input vSphere refused, when the error says).
   */
  async finish(vm: VM, op: EndedOperation): Promise<PowerEnd> {
    const info = (op.info ?? {}) as PowerOpInfo;
    if (op.state === 'done') {
      if (info.restart)
        this.opts.event(vm, 'Normal', 'Restarted', `${op.what} for the request at ${info.restart.next}`);
      return {
        justPoweredOn: op.value === 'powerOn',
        ...(info.writes ? { conditions: info.writes.map((type) => conditionTrue(type)) } : {}),
      };
    }
    if (info.restart) return this.restartFailed(vm, op.what, op.error, info.restart.previous);
    if (op.error instanceof PowerOnWriteError) {
      const { cause, condition } = op.error;
      // Input vSphere refuses (a customization it cannot apply, guestinfo over its limit, a guest ID its zone
      // does not know): the controller's envelope shows it and looks again when the error says.
      if (cause instanceof UserInputError) {
        const reason = condition === CONDITIONS.guestID ? 'Invalid' : cause.reason;
        return {
          justPoweredOn: false,
          failed: { error: cause, condition: conditionFalse(condition, reason, cause.message) },
        };
      }
      const { what, reason } = WRITES[condition] ?? { what: 'a write', reason: 'ReconfigureFailed' };
      const msg = `${what} before ${op.what} failed: ${errorMessage(cause)}; retrying`;
      this.opts.event(vm, 'Warning', reason, msg);
      return { justPoweredOn: false, failed: { error: cause, condition: conditionFalse(condition, reason, msg) } };
    }
    const msg = `${op.what} failed: ${errorMessage(op.error)}; retrying`;
    this.opts.event(vm, 'Warning', 'PowerOperationFailed', msg);
    return {
      justPoweredOn: false,
      failed: { error: op.error, condition: conditionFalse(CONDITIONS.ready, 'PowerOperationFailed', msg) },
    };
  }

  /**
   * Restarts the VM when spec.nextRestartTime is later than status.lastRestartTime. The new lastRestartTime is
   * written before the restart is issued, so a manager that dies in between never restarts twice for one
   * request; a restart that vSphere refuses puts the old value back (finish) so it is tried again. A reset is a
   * task, run beside the reconcile; a guest reboot is only passed on to the guest.
   */
  async restart(key: string, vm: VM, observed: ObservedVM, justPoweredOn: boolean): Promise<string | undefined> {
    const spec = vm.spec ?? {};
    const next = spec.nextRestartTime;
    if (!next || (spec.powerState ?? 'PoweredOn') !== 'PoweredOn' || observed.powerState !== 'PoweredOn')
      return undefined;
    if (!restartDue(next, vm.status?.lastRestartTime)) return undefined;
    // An operation of this VM runs (its end queues the VM again, and the restart comes then).
    if (this.opts.operations.get(key)) return undefined;
    const previous = vm.status?.lastRestartTime;
    await updateStatus<VM>(this.opts.client, vm, (s) => ({ ...s, lastRestartTime: next }));
    if (justPoweredOn) {
      this.opts.event(vm, 'Normal', 'Restarted', 'the VM was powered on, which satisfies the restart request');
      return next;
    }
    // TrySoft's choice depends on VM Tools: ask vSphere, not the cache.
    const fresh = await this.opts.provider.refreshVM(observed);
    const mode = spec.restartMode ?? 'TrySoft';
    const op = restartOp(mode, fresh.toolsRunning);
    // A hard restart is a task: it runs as the VM's operation, whose end says how it went.
    const reset = () => {
      const info: PowerOpInfo = { restart: { next, ...(previous ? { previous } : {}) } };
      this.opts.operations.start(
        key,
        'power',
        'reset',
        () => this.opts.provider.power(observed, 'reset').then(() => 'reset'),
        info,
      );
      return next;
    };
    if (op === 'reset') return reset();
    try {
      // (A guest reboot that vSphere does not answer within the TrySoft timeout counts as failed.)
      await withTimeout(this.opts.provider.power(observed, op), this.trySoftTimeoutMs, op);
    } catch (error) {
      if (mode === 'TrySoft') {
        // As VM Operator does: a soft restart that fails falls back to a hard one (Reset, as an operation).
        this.opts.event(vm, 'Warning', 'SoftRestartFailed', `${op} failed: ${errorMessage(error)}; resetting the VM`);
        return reset();
      }
      // As a failed reset is taken, then retried with backoff.
      await this.restartFailed(vm, op, error, previous);
      throw error;
    }
    this.opts.event(vm, 'Normal', 'Restarted', `${op} for the request at ${next}`);
    return next;
  }

  /** A restart vSphere refused: the old lastRestartTime goes back (so it is tried again), with an Event. */
  private async restartFailed(vm: VM, what: string, error: unknown, previous: string | undefined): Promise<PowerEnd> {
    await updateStatus<VM>(this.opts.client, vm, (s) => {
      const { lastRestartTime, ...rest } = s as VMStatus;
      void lastRestartTime;
      return previous ? { ...rest, lastRestartTime: previous } : rest;
    }).catch(() => undefined);
    const msg = `${what} failed: ${errorMessage(error)}; retrying`;
    this.opts.event(vm, 'Warning', 'RestartFailed', msg);
    return {
      justPoweredOn: false,
      failed: { error, condition: conditionFalse(CONDITIONS.ready, 'RestartFailed', msg), evenIfThere: true },
    };
  }
}
