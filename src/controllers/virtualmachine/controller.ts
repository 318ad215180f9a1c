// The VirtualMachine controller: one reconcile per VM key, in this order — finalizer, find the vSphere VM
// (by instance UUID, acting only on one made for this object), create it if missing (create.ts),
// PersistentVolumeClaim volumes (attached before a power-on, which waits for them), power state and restart
// (power-actions.ts), then one status write (observed-status.ts). Deletion detaches the volumes and destroys
// the VM before the finalizer goes. What is watched, and how events and vSphere changes find a VM's key, is
// in watches.ts.
import { Gauge, type Registry } from 'prom-client';
import { VM_FINALIZER } from '../../api/v1alpha6/virtualmachine.js';
import { VMGoneError, type ObservedVM, type VMProvider } from '../../providers/interface.js';
import { SharedCache } from '../../runtime/cache.js';
import { Controller, reconcileLogger, type ReconcileResult } from '../../runtime/controller.js';
import { errorMessage, UserInputError } from '../../runtime/errors.js';
import type { EventRecorder } from '../../runtime/events.js';
import { finalized } from '../../runtime/finalizer.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Runnable } from '../../runtime/manager.js';
import { StatusDraft, StatusWriter } from '../../runtime/status-writer.js';
import { InterfaceAddresses } from './addresses.js';
import { GuestBootstrap } from './bootstrap.js';
import { PROGRESS_MS, VMCreation, type VMRef } from './create.js';
import { CONDITIONS } from './dependencies.js';
import { HARDWARE_RECONFIGURED, reconfigureFailed, VMHardware } from './hardware.js';
import { deployedNetwork, intendedNetworkConfig, networkDefaults } from './network-config.js';
import { resolveNetworks } from './networks.js';
import { customizationCondition, observedFields, readyCondition } from './observed-status.js';
import { Operations } from './operations.js';
import { OrphanCollector } from './orphans.js';
import { OwnershipCheck } from './ownership.js';
import { PowerActions, type PowerEnd, type PowerOutcome } from './power-actions.js';
import { ReadinessProber } from './readiness.js';
import { PLACEMENT_READY, Relocation } from './relocation.js';
import type { VM, VMStatus } from './types.js';
import { VolumeAttacher } from './volume-attacher.js';
import { VMWatches } from './watches.js';

export interface VMControllerOptions {
  client: KubeClient;
  provider: VMProvider;
  events: EventRecorder;
  logger: Logger;
  registry?: Registry;
  concurrency?: number;
  trySoftTimeoutMs?: number;
  resyncMs?: number;
  /** Label selector: reconcile only the VMs it matches. */
  vmSelector?: string;
  /** The operator's namespace, where ConfigMap vmop-network-config lives (vmop-system by default). */
  namespace?: string;
  /** The manager's shared cache (one informer per kind per process); a private one when omitted. */
  cache?: SharedCache;
  /** How long a vSphere VM whose object is gone may live before it is destroyed (0: never). */
  orphanGraceMs?: number;
  /** Creates (deploys) in flight at most; more VMs wait for a slot. */
  maxConcurrentCreates?: number;
}

/** How often a VM waiting for a create slot looks again (besides being woken when a create ends). */
const SLOT_RECHECK_MS = 5_000;

/** Default grace period of an orphaned vSphere VM, and how often orphans are looked for. */
export const DEFAULT_ORPHAN_GRACE_MS = 300_000;

type Draft = StatusDraft<VMStatus, VM>;

export class VirtualMachineController implements Runnable {
  readonly name = 'virtualmachine';
  readonly controller: Controller;
  private readonly watches: VMWatches;
  private readonly ipam: InterfaceAddresses;
  private readonly volumes: VolumeAttacher;
  private readonly creation: VMCreation;
  private readonly power: PowerActions;
  private readonly hardware: VMHardware;
  private readonly readiness: ReadinessProber;
  private readonly relocation: Relocation;
  private readonly ownership: OwnershipCheck;
  private readonly status: StatusWriter<VMStatus, VM>;
  private readonly operations: Operations;
  private readonly orphans?: OrphanCollector;

  constructor(private readonly opts: VMControllerOptions) {
    const { client, logger, provider } = opts;
    // One informer per kind per process: the manager's cache, shared with the other controllers.
    const cache = opts.cache ?? new SharedCache(client, logger);
    const w = (this.watches = new VMWatches(cache, {
      resyncMs: opts.resyncMs,
      vmSelector: opts.vmSelector,
      namespace: opts.namespace ?? 'vmop-system',
    }));
    const event = (...args: Parameters<EventRecorder['record']>) => this.event(...args);
    this.ipam = new InterfaceAddresses(client, w.claims, w.ipAddresses);
    this.ownership = new OwnershipCheck(provider);
    // Long vSphere operations run beside the reconciles; each one's end queues its VM again.
    this.operations = new Operations({
      wake: (key) => this.controller.queue.add(key),
      logger: opts.logger,
      // A create that ends frees a slot: as many waiting VMs as there are free slots try again, first come
      // first served (waking them all would make every waiting VM look itself up in vSphere for each end).
      onCreateEnded: () => {
        let free = this.operations.maxConcurrentCreates - this.operations.creating;
        for (const key of this.creation.waitingForSlot.keys()) {
          if (free-- <= 0) break;
          this.controller.queue.add(key);
        }
      },
      maxConcurrentCreates: opts.maxConcurrentCreates,
      registry: opts.registry,
    });
    this.volumes = new VolumeAttacher(client, provider, w.volumeCaches, this.operations, event);
    this.creation = new VMCreation({
      client,
      provider,
      vms: w.vms,
      caches: w.caches,
      ipam: this.ipam,
      ownership: this.ownership,
      operations: this.operations,
      event,
    });
    const bootstrap = new GuestBootstrap(client, provider, event);
    this.hardware = new VMHardware(provider, w.caches);
    this.relocation = new Relocation({ provider, operations: this.operations, event });
    // Readiness probes run on timers of their own; an outcome that changes queues the VM.
    this.readiness = new ReadinessProber({
      provider,
      current: async (key) => {
        const vm = w.vms.get(key);
        if (!vm) return undefined;
        const observed = vm.spec?.instanceUUID ? await provider.findVM(vm.spec.instanceUUID) : undefined;
        return { vm, observed };
      },
      wake: (key) => this.controller.queue.add(key),
      event,
    });
    this.power = new PowerActions({
      client,
      provider,
      bootstrap,
      event,
      operations: this.operations,
      trySoftTimeoutMs: opts.trySoftTimeoutMs,
    });
    this.status = new StatusWriter(client, logger);
    const graceMs = opts.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
    if (graceMs > 0) {
      this.orphans = new OrphanCollector({
        provider,
        client,
        logger,
        graceMs,
        knownInstanceUUIDs: () => w.instanceUUIDs(),
        registry: opts.registry,
      });
    }
    this.controller = new Controller({
      name: this.name,
      reconciler: { reconcile: (key) => this.reconcile(key) },
      sources: w.sources(),
      concurrency: opts.concurrency ?? 8,
      logger,
      registry: opts.registry,
    });
    if (opts.registry) {
      const vms = w.vms;
      new Gauge({
        name: 'vmop_virtualmachines',
        help: 'VirtualMachines by observed power state ("" before the first observation).',
        labelNames: ['power_state'],
        registers: [opts.registry],
        collect() {
          this.reset();
          for (const vm of vms.list()) this.inc({ power_state: vm.status?.powerState ?? '' });
        },
      });
    }
    provider.watchVMs((change) => {
      const key = w.keyOf(change);
      if (key) this.controller.queue.add(key);
    });
  }

  health(): string | undefined {
    return this.controller.health();
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.orphans) {
      // Looked for a few times per grace period; an error (vCenter away) waits for the next round.
      const every = Math.min(60_000, Math.max(1_000, (this.opts.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS) / 3));
      const timer = setInterval(() => {
        this.orphans!.sweep().catch((err: unknown) =>
          this.opts.logger.warn(
            { err: errorMessage(err) },
            'looking for orphaned vSphere VMs failed; trying again later',
          ),
        );
      }, every);
      timer.unref();
      signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    }
    signal.addEventListener('abort', () => this.readiness.stop(), { once: true });
    await this.controller.start(signal);
    // The reconciles are done; the vSphere operations they started finish before the Lease is handed on.
    await this.operations.drain();
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const cached = this.watches.vms.get(key);
    if (!cached) {
      this.forget(key);
      return;
    }
    return finalized(this.opts.client, cached, VM_FINALIZER, {
      // The mutating webhook puts the finalizer on every new VM (saving each create a write and its echo);
      // this is for VMs created while no webhook ran.
      apply: (vm) => this.apply(key, vm),
      cleanup: async (vm) => {
        const last = await this.cleanup(key, vm);
        if (last) this.forget(key);
        return last;
      },
    });
  }

  private forget(key: string): void {
    this.power.forget(key);
    this.readiness.forget(key);
    this.relocation.forget(key);
    this.hardware.forget(key);
    this.creation.forget(key);
    this.status.forget(key);
    this.ownership.forget(key);
    this.operations.forget(key);
  }

  /**
   * The living VM's reconcile, in one envelope: the steps fill a status draft, written once at the end.
   * Input someone must fix (UserInputError) becomes a condition and an Event, and is looked at again only
   * when the error says; any other error is retried with backoff, after the draft so far is written.
   */
  private async apply(key: string, vm: VM): Promise<ReconcileResult | void> {
    const draft: Draft = new StatusDraft(vm);
    let result: ReconcileResult | void;
    try {
      result = await this.steps(key, draft);
    } catch (err) {
      if (!(err instanceof UserInputError)) {
        await this.status.write(draft).catch((e: unknown) => {
          reconcileLogger(this.opts.logger).debug(
            { err: errorMessage(e) },
            'status not written after a failed reconcile',
          );
        });
        throw err;
      }
      this.event(draft.obj, 'Warning', err.reason, err.message);
      // Before the VM exists the refusal is about creating it; afterwards, about making it ready.
      draft.fail(draft.fields.uniqueID ? CONDITIONS.ready : CONDITIONS.created, err.reason, err.message);
      result = err.recheckAfterMs !== undefined ? { requeueAfterMs: err.recheckAfterMs } : undefined;
    }
    mirrorCreation(draft);
    await this.status.write(draft);
    return result;
  }

  /** The steps of a living VM's reconcile, in their order. */
  private async steps(key: string, draft: Draft): Promise<ReconcileResult | void> {
    const spec = draft.obj.spec ?? {};
    if (!spec.instanceUUID || !spec.biosUUID) {
      throw new UserInputError(
        'spec.instanceUUID and spec.biosUUID must be set (the mutating webhook sets them; is it installed?)',
        'MissingUUID',
        { recheckAfterMs: null },
      );
    }
    const ref: VMRef = {
      namespace: draft.obj.metadata.namespace!,
      name: draft.obj.metadata.name!,
      uid: draft.obj.metadata.uid ?? '',
      instanceUUID: spec.instanceUUID,
    };
    // An operation under way (a deploy, a power task): nothing else is done to the VM until it ends, and its
    // end queues the VM again.
    const running = this.operations.get(key);
    if (running?.state === 'running') {
      if (running.kind === 'create') this.creation.progress(key, running, draft);
      // A power task runs on a VM that exists.
      else draft.ok(CONDITIONS.created);
      return;
    }
    const ended = this.operations.take(key);
    // A VM never created that cannot start its deploy yet waits for a slot without looking itself up in
    // vSphere (it will when its turn comes, before deploying).
    if (
      !ended &&
      !draft.obj.status?.uniqueID &&
      !this.creation.slotFree() &&
      this.creation.dependenciesReady(draft.obj)
    ) {
      this.creation.waitForSlot(key, draft);
      // Looked at again soon (then the status says the VM waits), and every few seconds after: a create's end
      // wakes the first waiting VMs at once, this is the net under that.
      return { requeueAfterMs: draft.deferred ? PROGRESS_MS : SLOT_RECHECK_MS };
    }
    let observed: ObservedVM | undefined;
    try {
      // A deploy that just ended read its VM back: no need to look it up again.
      observed =
        ended?.kind === 'create' && ended.state === 'done'
          ? (ended.value as { observed: ObservedVM }).observed
          : await this.find(key, ref);
    } catch (err) {
      // The cache knew a VM that is gone by now (the provider forgot it): look again, in vSphere itself.
      if (err instanceof VMGoneError) return { requeueAfterMs: 1 };
      throw err;
    }
    let className = draft.obj.status?.class?.name;
    // Each interface's Network: for creating the VM, and for its intended network config on every round.
    const nets = resolveNetworks(ref.namespace, deployedNetwork(draft.obj), this.watches.networks);
    let justCreated = false;
    let justPoweredOn = false;
    let powerEnd: PowerEnd | undefined;
    // (A deploy that failed after all made the VM — found by its instance UUID — is simply taken as made.)
    if (ended?.kind === 'create' && !(ended.state === 'failed' && observed)) {
      const created = this.creation.finish(ref, ended, draft);
      observed ??= created.observed;
      className = created.className;
      justCreated = true;
      justPoweredOn = created.poweredOn;
    } else if (ended?.kind === 'power') {
      powerEnd = await this.power.finish(draft.obj, ended);
      justPoweredOn = powerEnd.justPoweredOn;
      for (const c of powerEnd.conditions ?? []) draft.condition(c);
    }
    const powerFailed = powerEnd?.failed;
    if (!observed) {
      await this.creation.start(ref, nets, draft);
      // A deploy started (or a short wait for a slot): its status comes with its end, or with a look soon.
      if (draft.deferred) return { requeueAfterMs: PROGRESS_MS };
      return this.creation.waitingForSlot.has(key) ? { requeueAfterMs: SLOT_RECHECK_MS } : undefined;
    }
    this.creation.waitingForSlot.delete(key);
    draft.ok(CONDITIONS.created);

    const volumes = await this.volumes.reconcile(
      key,
      draft.obj,
      observed,
      ended?.kind === 'volumes' ? ended : undefined,
    );
    draft.obj = volumes.vm;
    if (volumes.condition) draft.condition(volumes.condition);
    const networkConfig = intendedNetworkConfig(
      ref.name,
      deployedNetwork(draft.obj),
      networkDefaults(this.watches.networkDefaultsObject()),
      'interfaces' in nets ? nets.interfaces.map((n) => n.modes) : [],
      'interfaces' in nets ? this.ipam.addressesOf(draft.obj, nets.interfaces) : [],
    );
    // Hardware the spec asks for and vSphere does not hold yet is written before the next power-on (an ended
    // power-on may have said how that went).
    // A running VM's CD-ROM change that failed: said now, retried with backoff (thrown below).
    const reconfigureError = ended?.kind === 'reconfigure' && ended.state === 'failed' ? ended : undefined;
    if (reconfigureError) {
      const failed = reconfigureFailed(reconfigureError.error);
      this.event(draft.obj, 'Warning', 'ReconfigureFailed', failed.message);
      draft.condition(failed);
    }
    const hardware = await this.hardware.assess(key, draft.obj, observed);
    if (hardware.condition && !draft.conditions.some((c) => c.type === HARDWARE_RECONFIGURED)) {
      draft.condition(hardware.condition);
    }
    // A running VM's CD-ROM connections change now, beside the reconcile (after a failure, with the retry's pause).
    const reconfiguring =
      !!hardware.now &&
      !reconfigureError &&
      this.operations.start(key, 'reconfigure', hardware.now.what, hardware.now.run);
    // A zone label that names another zone moves the VM there (an operation of its own).
    let relocateError: unknown;
    if (ended?.kind === 'relocate') {
      const end = this.relocation.finish(key, draft.obj, ended);
      draft.condition(end.condition);
      relocateError = end.error;
    }
    const relocating =
      reconfiguring || relocateError ? undefined : await this.relocation.reconcile(key, draft.obj, observed);
    if (relocating?.condition && !draft.conditions.some((c) => c.type === PLACEMENT_READY)) {
      draft.condition(relocating.condition);
    }
    // After a failed power task, this round shows the VM as it is, and the retry comes with backoff; while
    // volumes are attached or detached, the power change waits for that operation's end.
    const power: PowerOutcome =
      powerFailed || volumes.started || reconfiguring || relocating?.started
        ? { observed, justPoweredOn: false }
        : await this.power.reconcile(
            key,
            draft.obj,
            observed,
            justCreated,
            volumes.pending,
            networkConfig,
            hardware.write,
          );
    if (power.bootstrap) draft.condition(power.bootstrap);
    // GuestIDReconfigured is True once vSphere holds the guest ID; one changed while the VM was off is applied
    // at its next power-on (the ended power-on may have said how that went). Judged from the VM the power step
    // saw: the cache can be a moment behind a power-on that just ended, and that step asked vSphere itself.
    if (spec.guestID && !draft.conditions.some((c) => c.type === CONDITIONS.guestID)) {
      if (power.observed.guestID === spec.guestID) draft.ok(CONDITIONS.guestID);
      else if (power.observed.powerState !== 'PoweredOn') {
        draft.fail(
          CONDITIONS.guestID,
          'PendingPowerOn',
          `vSphere holds guest ID ${power.observed.guestID ?? '(none)'}; ${spec.guestID} is applied at the next power-on`,
        );
      }
    }
    const customization = customizationCondition(draft.obj, power.observed.customization);
    if (customization) draft.condition(customization);
    draft.fields = {
      ...(await observedFields(this.opts.provider, draft.obj, power.observed, className, networkConfig)),
      volumes: volumes.statuses,
    };
    const restarted = await this.power.restart(key, draft.obj, power.observed, power.justPoweredOn || justPoweredOn);
    if (restarted) draft.fields.lastRestartTime = restarted;
    // With a readiness probe, Ready is the probe's outcome (as VM Operator's prober sets it).
    draft.condition(
      this.readiness.condition(key, draft.obj, power.observed) ?? readyCondition(draft.obj, power, volumes.pending),
    );
    // A failed CD-ROM change or move is tried again with backoff (its condition is written first).
    if (reconfigureError) throw reconfigureError.error;
    if (relocateError) throw relocateError;
    if (powerFailed) {
      // (Unless the VM got where it should anyway; a failed restart is retried all the same.)
      if (!powerFailed.evenIfThere && power.observed.powerState === (spec.powerState ?? 'PoweredOn')) return undefined;
      draft.condition(powerFailed.condition);
      throw powerFailed.error;
    }
    // A power task started (its end writes the status, or a look soon shows it still running) — unless
    // something else is to be said now, such as a restart.
    const deferred = power.started && !restarted;
    if (deferred) draft.deferred = true;
    const requeueAfterMs = minDefined(
      minDefined(power.requeueAfterMs, volumes.requeueAfterMs),
      deferred ? PROGRESS_MS : undefined,
    );
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }

  /** The VM's vSphere VM by instance UUID, if it was made for this very object (else InstanceUUIDInUse). */
  private async find(key: string, ref: VMRef): Promise<ObservedVM | undefined> {
    const observed = await this.opts.provider.findVM(ref.instanceUUID);
    const why = observed && (await this.ownership.mismatch(key, ref, observed));
    if (why) throw new UserInputError(why, 'InstanceUUIDInUse');
    return observed;
  }

  /**
   * Destroys the VM's vSphere VM (its volumes detached first; the destroy runs beside the reconcile) and gives
   * back its addresses; undefined while something is under way (the finalizer stays).
   */
  private async cleanup(key: string, vm: VM): Promise<VM | undefined> {
    // A deploy or power task still running: its end queues the VM again (a deploy's VM is then destroyed).
    if (this.operations.get(key)?.state === 'running') return undefined;
    const ended = this.operations.take(key);
    const instanceUUID = vm.spec?.instanceUUID;
    if (instanceUUID) {
      try {
        if (ended?.kind === 'destroy' && ended.state === 'failed') throw ended.error;
        if (ended?.kind === 'destroy') {
          // Gone: vSphere said so when the destroy ended (the change feed may say it a moment later).
          this.event(vm, 'Normal', 'Deleted', `destroyed vSphere VM ${ended.what}`);
          await this.ipam.release(vm);
          return vm;
        }
        // Any failure to look (vCenter unreachable, provider misconfigured) keeps the finalizer: only a VM
        // that vSphere says is gone lets the object go.
        const owner = { namespace: vm.metadata.namespace!, name: vm.metadata.name!, uid: vm.metadata.uid ?? '' };
        let observed: ObservedVM | undefined;
        let why: string | undefined;
        // A VM the cache knew may be gone by now: then the provider forgets it and the second look asks vSphere.
        for (let attempt = 1; ; attempt++) {
          observed = await this.opts.provider.findVM(instanceUUID);
          try {
            why = observed && (await this.ownership.mismatch(key, owner, observed));
            break;
          } catch (err) {
            if (!(err instanceof VMGoneError) || attempt >= 2) throw err;
          }
        }
        if (observed && why) {
          // Another object's VM (a copy that carries its instance UUID): never destroyed on this one's behalf.
          this.event(vm, 'Warning', 'InstanceUUIDInUse', `${why}; it was not destroyed`);
        } else if (observed) {
          // The volumes' disks belong to their claims: detached first, so they outlive the VM.
          const vsphereVM = observed;
          const detached = vm;
          this.operations.start(key, 'destroy', vsphereVM.id, async () => {
            await this.volumes.detachAll(detached, vsphereVM);
            await this.opts.provider.destroyVM(vsphereVM);
          });
          return undefined;
        }
      } catch (err) {
        const msg = `cannot delete the vSphere VM yet: ${errorMessage(err)}; the VirtualMachine stays until it is gone`;
        this.event(vm, 'Warning', 'DeleteFailed', msg);
        const draft: Draft = new StatusDraft(vm);
        draft.fail(CONDITIONS.ready, 'DeleteFailed', msg);
        await this.status.write(draft).catch(() => undefined);
        throw err;
      }
    }
    // Its addresses go back to their pools now (the garbage collector would also do it, later).
    await this.ipam.release(vm);
    return vm;
  }

  /** Records an Event without holding up the reconcile (the recorder never throws). */
  private event(...args: Parameters<EventRecorder['record']>): void {
    void this.opts.events.record(...args);
  }
}

/**
 * Until the VM exists, Ready says why not with the creation's reason and message (WaitingToDeploy, Deploying,
 * CreateFailed …), so `kubectl wait --for=condition=Ready` and a view of the Ready condition show the progress.
 */
function mirrorCreation(draft: Draft): void {
  const created = draft.conditions.findLast((c) => c.type === CONDITIONS.created);
  if (created?.status !== 'False' || draft.conditions.some((c) => c.type === CONDITIONS.ready)) return;
  draft.condition({ ...created, type: CONDITIONS.ready });
}

/** The smaller of two optional delays. */
function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
