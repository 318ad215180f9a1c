// Creating the vSphere VM of a VirtualMachine that has none: its class, image and storage class resolved, its
// interfaces' Networks found and static addresses claimed, its zone chosen (and written as its label), then
// one provider create, started beside the reconcile (operations.ts) and taken by a later one. Until everything
// it needs is there, the VM waits with a condition per missing piece; input vSphere refuses is a
// UserInputError the controller shows.
import { API_VERSION } from '../../api/v1alpha3/common.js';
import { ZONE_LABEL } from '../../api/v1alpha3/virtualmachine.js';
import type { ObservedVM, VMProvider } from '../../providers/interface.js';
import { UserInputError } from '../../runtime/errors.js';
import type { EventRecorder } from '../../runtime/events.js';
import { objectKey, type Informer } from '../../runtime/informer.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import type { StatusDraft } from '../../runtime/status-writer.js';
import type { InterfaceAddresses } from './addresses.js';
import { CONDITIONS, resolveDependencies, type DependencyCaches } from './dependencies.js';
import { interfacesOf } from './network-config.js';
import type { resolveNetworks } from './networks.js';
import type { Operations } from './operations.js';
import type { OwnershipCheck } from './ownership.js';
import type { VM, VMStatus } from './types.js';
import { chooseZone } from './zone.js';

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
    if (ops.creating >= ops.maxConcurrentCreates) {
      this.waitingForSlot.add(key);
      draft.fail(
        CONDITIONS.created,
        'WaitingToDeploy',
        `${ops.creating} vSphere VMs are being created (at most ${ops.maxConcurrentCreates} at once, --max-concurrent-creates); this one starts when one of them ends`,
      );
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
    const started = ops.start(key, 'create', `deploying ${image} in zone ${zone}`, async () => ({
      observed: await this.opts.provider.createVM(request),
      className,
      image,
      zone,
    }));
    if (!started) return; // one runs already (the caller shows it)
    this.waitingForSlot.delete(key);
    this.opts.event(draft.obj, 'Normal', 'Creating', `deploying the vSphere VM from ${image} in zone ${zone}`);
    const op = ops.get(key)!;
    draft.fail(CONDITIONS.created, 'Deploying', deployingMessage(op.what, op.since));
  }

  /**
   * Takes the end of the VM's create: the VM as created (with an Event), or the failure — input vSphere
   * refuses as a UserInputError the controller shows, anything else retried with backoff.
   */
  finish(
    ref: VMRef,
    op: { state: 'done'; value: unknown } | { state: 'failed'; error: unknown },
    draft: StatusDraft<VMStatus, VM>,
  ): { observed: ObservedVM; className: string } {
    const key = objectKey(draft.obj);
    this.zoneChoices.delete(key);
    if (op.state === 'failed') {
      const err = op.error;
      if (err instanceof UserInputError) {
        if (err.reason === 'InvalidGuestID') {
          const guestID = draft.obj.spec?.guestID;
          draft.fail(CONDITIONS.guestID, 'Invalid', `The specified guest ID value is not supported: ${guestID}`);
        }
        throw err;
      }
      this.opts.event(
        draft.obj,
        'Warning',
        'CreateFailed',
        `creating the vSphere VM failed: ${message(err)}; retrying`,
      );
      throw err;
    }
    const done = op.value as { observed: ObservedVM; className: string; image: string; zone?: string };
    this.opts.ownership.created(key, ref.uid, done.observed);
    this.opts.event(
      draft.obj,
      'Normal',
      'Created',
      `created vSphere VM ${done.observed.id} from ${done.image} in zone ${done.zone} on host ${done.observed.host ?? 'unknown'}`,
    );
    return { observed: done.observed, className: done.className };
  }

  /** VMs that wait for a create slot, woken (all of them; the bound holds) when a create ends. */
  readonly waitingForSlot = new Set<string>();

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
export function deployingMessage(what: string, since: number): string {
  return `${what}, started ${new Date(since).toISOString()}; a real vCenter takes minutes`;
}

/** The class status names once the VM is created from it. */
export function classRef(name: string): NonNullable<VMStatus['class']> {
  return { apiVersion: API_VERSION, kind: 'VirtualMachineClass', name };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
