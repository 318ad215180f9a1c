// Creating the vSphere VM of a VirtualMachine that has none: its class, image and storage class resolved, its
// interfaces' Networks found and static addresses claimed, its zone chosen (and written as its label), then
// one provider create, started beside the reconcile (operations.ts) and taken by a later one. Until everything
// it needs is there, the VM waits with a condition per missing piece; input vSphere refuses is a
// UserInputError the controller shows.
import { API_VERSION } from '../../api/v1alpha6/common.js';
import { ZONE_LABEL } from '../../api/v1alpha6/virtualmachine.js';
import type { ObservedVM, VMProvider } from '../../providers/interface.js';
import { errorMessage, UserInputError } from '../../runtime/errors.js';
import type { EventRecorder } from '../../runtime/events.js';
import { objectKey, type Informer } from '../../runtime/informer.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import type { StatusDraft } from '../../runtime/status-writer.js';
import type { ConditionUpdate } from '../../runtime/status.js';
import type { InterfaceAddresses } from './addresses.js';
import { CONDITIONS, resolveDependencies, type DependencyCaches } from './dependencies.js';
import { interfacesOf, NETWORK_DISABLED_ANNOTATION } from './network-config.js';
import type { resolveNetworks } from './networks.js';
import type { Operations } from './operations.js';
import type { OwnershipCheck } from './ownership.js';
import type { VM, VMStatus } from './types.js';
import { chooseZone } from './zone.js';

/** How long after starting a deploy (or waiting for a slot) the VM's status shows it, if it still lasts. */
export const PROGRESS_MS = 2_000;

/** The Networks of the VM's interfaces exist and their static addresses are given. */
export const NETWORK_READY = 'VirtualMachineNetworkReady';

export interface VMRef {
  namespace: string;
  name: string;
  uid: string;
  instanceUUID: string;
}

export class VMCreation {
  /** Zones chosen but not yet visible in the cache, so a burst of creates still spreads. */
  private readonly zoneChoices = new Map<string, string>();

  constructor(
    private readonly opts: {
      client: KubeClient;
      provider: VMProvider;
      vms: Informer<VM>;
      caches: DependencyCaches;
      ipam: InterfaceAddresses;
      ownership: OwnershipCheck;
      operations: Operations;
      event: (...args: Parameters<EventRecorder['record']>) => void;
    },
  ) {}

  forget(key: string): void {
    this.zoneChoices.delete(key);
    this.waitingForSlot.delete(key);
    this.announced.delete(key);
    this.found.delete(key);
  }

  /**
   * Starts creating the VM (the deploy runs beside the reconcile, operations.ts), or says in `draft` what it
   * waits for. `draft.obj` follows the object as stored (the zone label is written first).
   */
  async start(ref: VMRef, nets: ReturnType<typeof resolveNetworks>, draft: StatusDraft<VMStatus, VM>): Promise<void> {
    const vm = draft.obj;
    const spec = vm.spec ?? {};
    const deps = resolveDependencies(vm, this.opts.caches);
    for (const c of deps.conditions) draft.condition(c);
    // Static addresses first (VM Operator, too, creates a VM only once its interfaces are ready).
    const ipam = 'error' in nets ? undefined : await this.opts.ipam.claimAddresses(vm, nets.interfaces);
    if ('error' in nets) draft.fail(NETWORK_READY, nets.reason, nets.error);
    else if (ipam?.pending) draft.fail(NETWORK_READY, ipam.pending.reason, ipam.pending.message);
    else draft.ok(NETWORK_READY);
    if (!deps.cls || !deps.image || !deps.storage || 'error' in nets || ipam?.pending) {
      const missing = draft.conditions.filter((c) => c.status !== 'True');
      for (const c of missing) {
        const reason = c.reason === 'NotFound' ? `${c.type.replace(/Ready$/, '')}NotFound` : c.reason;
        this.opts.event(vm, 'Warning', reason, c.message);
      }
      draft.fail(CONDITIONS.created, 'WaitingForDependencies', missing.map((c) => c.message).join('; '));
      return;
    }
    const key = objectKey(vm);
    const ops = this.opts.operations;
    if (!this.slotFree()) {
      this.waitForSlot(key, draft);
      return;
    }
    // The zone: its label, else the configured zone with the fewest VMs (none configured: the provider says so).
    const zone = await this.zoneFor(draft);
    const image = `${deps.image.kind} ${deps.image.name}`;
    const request = {
      ...ref,
      biosUUID: spec.biosUUID!,
      guestID: spec.guestID,
      zone,
      imageItemID: deps.image.itemID,
      cpus: deps.cls.cpus,
      memoryMiB: deps.cls.memoryMiB,
      classConfigSpec: deps.cls.configSpec,
      resources: deps.cls.resources,
      devices: deps.cls.devices,
      interfaces: interfacesOf(spec.network).map((i) => i.name),
      interfaceNetworks: nets.interfaces.map((n) => n.portGroup),
      storagePolicyID: deps.storage.storagePolicyID,
    };
    const className = deps.cls.name;
    // What vSphere would refuse at once is refused now, not after a deploy's worth of waiting.
    try {
      await this.opts.provider.checkCreate(request);
    } catch (err) {
      if (err instanceof UserInputError && err.reason === 'InvalidGuestID') {
        draft.fail(CONDITIONS.guestID, 'Invalid', `The specified guest ID value is not supported: ${spec.guestID}`);
      }
      throw err;
    }
    // Whether networking is disabled is recorded as the VM is deployed: a later change of the spec has no effect.
    const disabled = spec.network?.disabled === true;
    const annotations = (vm.metadata.annotations ?? {}) as Record<string, string>;
    if (disabled !== (annotations[NETWORK_DISABLED_ANNOTATION] === 'true')) {
      draft.obj = await this.opts.client.request<VM>('PATCH', await this.opts.client.objectPath(vm), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { [NETWORK_DISABLED_ANNOTATION]: disabled ? 'true' : null } } },
      });
    }
    // A VM that has nothing to wait for between its deploy and its first power-on (no volumes, no bootstrap
    // data, no hardware change) is powered on by the same operation, as VM Operator's create does: one
    // hand-over fewer.
    const b = spec.bootstrap;
    const powerOnAfter =
      (spec.powerState ?? 'PoweredOn') === 'PoweredOn' &&
      !(spec.volumes ?? []).length &&
      !(b?.cloudInit || b?.linuxPrep || b?.sysprep || b?.vAppConfig) &&
      spec.minHardwareVersion === undefined &&
      spec.advanced?.bootDiskCapacity === undefined &&
      !spec.hardware?.cdrom?.length;
    const started = ops.start(key, 'create', `deploying ${image} in zone ${zone}`, async () => {
      let observed = await this.opts.provider.createVM(request);
      let powerError: unknown;
      if (powerOnAfter) {
        try {
          await this.opts.provider.power(observed, 'powerOn');
          observed = { ...observed, powerState: 'PoweredOn' };
        } catch (err) {
          powerError = err; // the VM is there; the next round powers it on again
        }
      }
      return { observed, className, image, zone, poweredOn: powerOnAfter && !powerError, powerError };
    });
    if (!started) return; // one runs already (the caller shows it)
    this.waitingForSlot.delete(key);
    // What this round found (class, image, storage, network ready) is written with the deploy's progress or end.
    this.found.set(key, [...draft.conditions]);
    // Most deploys of a fast vCenter end before anyone could read this status: it is written (with an Event)
    // by the look PROGRESS_MS later if the deploy still runs (progress), else by the deploy's end.
    draft.deferred = true;
  }

  /** A look at a running deploy: the condition says what and since when; the first look also records an Event. */
  progress(key: string, op: { what: string; since: number }, draft: StatusDraft<VMStatus, VM>): void {
    for (const c of this.found.get(key) ?? []) draft.condition(c);
    if (!this.announced.has(key)) {
      this.announced.add(key);
      this.opts.event(draft.obj, 'Normal', 'Creating', `${op.what}: started`);
    }
    draft.fail(CONDITIONS.created, 'Deploying', deployingMessage(op.what, op.since));
  }

  /** VMs whose running deploy was announced (an Event), so it is announced once. */
  private readonly announced = new Set<string>();
  /** The conditions found when each running deploy started, written with its progress and its end. */
  private readonly found = new Map<string, ConditionUpdate[]>();

  /**
   * Takes the end of the VM's create: the VM as created (with an Event), or the failure — input vSphere
   * refuses as a UserInputError the controller shows, anything else retried with backoff.
   */
  finish(
    ref: VMRef,
    op: { state: 'done'; value: unknown } | { state: 'failed'; error: unknown },
    draft: StatusDraft<VMStatus, VM>,
  ): { observed: ObservedVM; className: string; poweredOn: boolean } {
    const key = objectKey(draft.obj);
    this.zoneChoices.delete(key);
    this.announced.delete(key);
    for (const c of this.found.get(key) ?? []) draft.condition(c);
    this.found.delete(key);
    if (op.state === 'failed') {
      const err = op.error;
      if (err instanceof UserInputError) {
        if (err.reason === 'InvalidGuestID') {
          const guestID = draft.obj.spec?.guestID;
          draft.fail(CONDITIONS.guestID, 'Invalid', `The specified guest ID value is not supported: ${guestID}`);
        }
        throw err;
      }
      const msg = `creating the vSphere VM failed: ${errorMessage(err)}; retrying`;
      this.opts.event(draft.obj, 'Warning', 'CreateFailed', msg);
      // Shown until the retry (the status is written on the way out).
      draft.fail(CONDITIONS.created, 'CreateFailed', msg);
      throw err;
    }
    const done = op.value as {
      observed: ObservedVM;
      className: string;
      image: string;
      zone?: string;
      poweredOn: boolean;
      powerError?: unknown;
    };
    this.opts.ownership.created(key, ref.uid, done.observed);
    if (done.powerError !== undefined) {
      this.opts.event(
        draft.obj,
        'Warning',
        'PowerOperationFailed',
        `powerOn after the create failed: ${errorMessage(done.powerError)}; retrying`,
      );
    }
    this.opts.event(
      draft.obj,
      'Normal',
      'Created',
      `created vSphere VM ${done.observed.id} from ${done.image} in zone ${done.zone} on host ${done.observed.host ?? 'unknown'}`,
    );
    return { observed: done.observed, className: done.className, poweredOn: done.poweredOn };
  }

  /** VMs that wait for a create slot, in the order they came (with since when); the first are woken when creates end. */
  readonly waitingForSlot = new Map<string, number>();

  /** Whether the VM's class, image and storage class are there (so what it waits for is a create slot). */
  dependenciesReady(vm: VM): boolean {
    const deps = resolveDependencies(vm, this.opts.caches);
    return !!(deps.cls && deps.image && deps.storage);
  }

  /** Whether a create may start now (the creates in flight are below their bound). */
  slotFree(): boolean {
    return this.opts.operations.creating < this.opts.operations.maxConcurrentCreates;
  }

  /** The VM waits for a create slot, and its status says so. */
  waitForSlot(key: string, draft: StatusDraft<VMStatus, VM>): void {
    const ops = this.opts.operations;
    const since = this.waitingForSlot.get(key) ?? Date.now();
    this.waitingForSlot.set(key, since);
    // A short wait is not worth a write (a fast vCenter frees a slot within moments).
    if (Date.now() - since < PROGRESS_MS) {
      draft.deferred = true;
      return;
    }
    draft.fail(
      CONDITIONS.created,
      'WaitingToDeploy',
      `vSphere VMs are created at most ${ops.maxConcurrentCreates} at once (--max-concurrent-creates); this one starts when a create ends`,
    );
  }

  /** The VM's zone: its label, or a chosen one that is then written as the label (draft.obj becomes the result). */
  private async zoneFor(draft: StatusDraft<VMStatus, VM>): Promise<string | undefined> {
    const vm = draft.obj;
    const key = objectKey(vm);
    const labelled = (vm.metadata.labels as Record<string, string> | undefined)?.[ZONE_LABEL];
    if (labelled) return labelled;
    let zone = this.zoneChoices.get(key);
    if (!zone) {
      const pending = new Map<string, number>();
      for (const [k, z] of this.zoneChoices) if (k !== key) pending.set(z, (pending.get(z) ?? 0) + 1);
      zone = chooseZone(await this.opts.provider.zones(), this.opts.vms.list(), pending);
      if (!zone) return undefined;
      this.zoneChoices.set(key, zone);
    }
    draft.obj = await this.opts.client.request<VM>('PATCH', await this.opts.client.objectPath(vm), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { [ZONE_LABEL]: zone } } },
    });
    return zone;
  }
}

/** The Created condition's message while a deploy runs: what, and since when (a stable text: no rewrites). */
function deployingMessage(what: string, since: number): string {
  return `${what}, started ${new Date(since).toISOString()}; a real vCenter takes minutes`;
}

/** The class status names once the VM is created from it. */
export function classRef(name: string): NonNullable<VMStatus['class']> {
  return { apiVersion: API_VERSION, kind: 'VirtualMachineClass', name };
}
