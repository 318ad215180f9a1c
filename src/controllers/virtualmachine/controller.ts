// The VirtualMachine controller: one reconcile per VM key, in this order — finalizer, find the vSphere VM
// (by instance UUID), create it if missing (class, image, storage class, zone and guest ID resolved first),
// PersistentVolumeClaim volumes (attached before a power-on, which waits for them), power state, restart,
// status. Deletion detaches the volumes, powers the VM off and destroys it before the finalizer goes.
// vSphere changes arrive through the provider's change feed and are mapped back to keys by instance UUID.
import { Gauge, type Registry } from 'prom-client';
import { API_VERSION } from '../../api/v1alpha3/common.js';
import { VM_FINALIZER, ZONE_LABEL, type PowerState } from '../../api/v1alpha3/virtualmachine.js';
import { CAPI_IPAM_API_VERSION } from '../../api/vmop/ipam.js';
import { NETWORK_API_VERSION } from '../../api/vmop/network.js';
import {
  ProviderInputError,
  VMGoneError,
  type ObservedVM,
  type PowerOperation,
  type VMPowerState,
  type VMProvider,
} from '../../providers/interface.js';
import { SharedCache } from '../../runtime/cache.js';
import { Controller, type WatchSource } from '../../runtime/controller.js';
import type { EventRecorder } from '../../runtime/events.js';
import { ensureFinalizer, removeFinalizer } from '../../runtime/finalizer.js';
import { Informer, objectKey } from '../../runtime/informer.js';
import { KubeAPIError, type KubeClient } from '../../runtime/kube-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Runnable } from '../../runtime/manager.js';
import { sameJSON, setCondition, updateStatus } from '../../runtime/status.js';
import { CLAIM_VM_LABEL, CLAIMS_BY_VM, InterfaceAddresses } from './addresses.js';
import { GuestBootstrap } from './bootstrap.js';
import { BootstrapDataError } from './cloud-init.js';
import { CONDITIONS, resolveDependencies, type ConditionUpdate, type DependencyCaches } from './dependencies.js';
import { guestInterfaces } from './guest-network.js';
import {
  interfacesOf,
  intendedNetworkConfig,
  NETWORK_CONFIGMAP,
  networkDefaults,
  type NetworkConfig,
} from './network-config.js';
import { resolveNetworks } from './networks.js';
import { decidePower, restartDue, restartOp } from './power.js';
import type { NetworkStatus, VM, VMStatus } from './types.js';
import type { VolumeCaches } from './volumes.js';
import { VolumeAttacher } from './volume-attacher.js';
import { OrphanCollector } from './orphans.js';
import { OwnershipCheck } from './ownership.js';
import { chooseZone } from './zone.js';

export const DEFAULT_TRYSOFT_TIMEOUT_MS = 5 * 60 * 1000;

/** True once the guest's bootstrap data (Cloud-Init) was written for the last power-on; False while it cannot be. */
const BOOTSTRAP_READY = 'VirtualMachineBootstrapReady';
/** The Networks of the VM's interfaces exist (created VMs keep the networks they got). */
const NETWORK_READY = 'VirtualMachineNetworkReady';
/** Guest OS customization (LinuxPrep, Sysprep) as the guest reports it, as VM Operator names the condition. */
const GUEST_CUSTOMIZATION = 'GuestCustomization';
const CUSTOMIZATION_REASONS: Record<string, { status: 'True' | 'False'; reason: string }> = {
  TOOLSDEPLOYPKG_PENDING: { status: 'False', reason: 'GuestCustomizationPending' },
  TOOLSDEPLOYPKG_RUNNING: { status: 'False', reason: 'GuestCustomizationRunning' },
  TOOLSDEPLOYPKG_SUCCEEDED: { status: 'True', reason: 'True' },
  TOOLSDEPLOYPKG_FAILED: { status: 'False', reason: 'GuestCustomizationFailed' },
};

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
}

/** Index names on the shared informers (unique per process, so prefixed). */
const VMS_BY_CLAIM = 'virtualmachine.claim';
const WAITING_VMS = 'virtualmachine.waiting';

/** Default grace period of an orphaned vSphere VM, and how often orphans are looked for. */
export const DEFAULT_ORPHAN_GRACE_MS = 300_000;

const AFTER_HARD_OP: Partial<Record<PowerOperation, VMPowerState>> = {
  powerOn: 'PoweredOn',
  powerOff: 'PoweredOff',
  suspend: 'Suspended',
  reset: 'PoweredOn',
};

export class VirtualMachineController implements Runnable {
  readonly name = 'virtualmachine';
  readonly controller: Controller;
  private readonly vms: Informer<VM>;
  private readonly caches: DependencyCaches;
  private readonly volumeCaches: VolumeCaches;
  /** ConfigMap vmop-network-config (global DNS and the default network's DHCP modes). */
  private readonly networkConfig: Informer;
  /** vmop.dev Network objects, all namespaces. */
  private readonly networks: Informer;
  /** Cluster API IPAM claims (those of VM interfaces) and addresses, all namespaces. */
  private readonly claims: Informer;
  private readonly ipAddresses: Informer;
  private readonly ipam: InterfaceAddresses;
  private readonly volumes: VolumeAttacher;
  private readonly bootstrap: GuestBootstrap;
  private readonly ownership: OwnershipCheck;
  private readonly orphans?: OrphanCollector;
  /** Soft power operations under way, by key: the state they aim at and when they were issued. */
  private readonly softOps = new Map<string, { target: PowerState; since: number }>();
  /** Zones chosen but not yet visible in the cache, so a burst of creates still spreads. */
  private readonly zoneChoices = new Map<string, string>();
  private readonly byInstanceUUID = new Map<string, string>();
  private readonly byUniqueID = new Map<string, string>();
  /** The status this controller last wrote, by key, with the resourceVersion it got. */
  private readonly written = new Map<string, { uid?: string; resourceVersion: string; status: VMStatus }>();

  constructor(private readonly opts: VMControllerOptions) {
    const { client, logger } = opts;
    // One informer per kind per process: the manager's cache, shared with the other controllers.
    const cache = opts.cache ?? new SharedCache(client, logger);
    const informer = (apiVersion: string, kind: string) =>
      cache.informer({ apiVersion, kind, resyncMs: opts.resyncMs });
    this.vms = cache.informer<VM>({
      apiVersion: API_VERSION,
      kind: 'VirtualMachine',
      resyncMs: opts.resyncMs,
      labelSelector: opts.vmSelector || undefined,
    });
    // VMs by the claims their volumes name ("namespace/claim"), and the VMs not created yet by namespace.
    this.vms.addIndex(VMS_BY_CLAIM, (vm) =>
      (vm.spec?.volumes ?? []).flatMap((v) =>
        v.persistentVolumeClaim?.claimName ? [`${vm.metadata.namespace}/${v.persistentVolumeClaim.claimName}`] : [],
      ),
    );
    this.vms.addIndex(WAITING_VMS, (vm) => (vm.status?.uniqueID ? [] : ['', vm.metadata.namespace ?? '']));
    this.caches = {
      classes: informer(API_VERSION, 'VirtualMachineClass'),
      images: informer(API_VERSION, 'VirtualMachineImage'),
      clusterImages: informer(API_VERSION, 'ClusterVirtualMachineImage'),
      storageClasses: cache.informer({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass' }),
      quotas: cache.informer({ apiVersion: 'v1', kind: 'ResourceQuota' }),
    };
    this.networks = cache.informer({ apiVersion: NETWORK_API_VERSION, kind: 'Network' });
    // The Cluster API IPAM contract's CRDs are optional: without them no interface can name an IP pool, and
    // every other VM is reconciled as usual. (All claims, shared with the IPAM provider; those of VMs by index.)
    this.claims = cache.informer({ apiVersion: CAPI_IPAM_API_VERSION, kind: 'IPAddressClaim', optional: true });
    this.claims.addIndex(CLAIMS_BY_VM, (c) => {
      const vm = (c.metadata.labels as Record<string, string> | undefined)?.[CLAIM_VM_LABEL];
      return vm ? [`${c.metadata.namespace}/${vm}`] : [];
    });
    this.ipAddresses = cache.informer({ apiVersion: CAPI_IPAM_API_VERSION, kind: 'IPAddress', optional: true });
    this.ipam = new InterfaceAddresses(client, this.claims, this.ipAddresses);
    this.bootstrap = new GuestBootstrap(client, opts.provider, (...args) => this.event(...args));
    this.networkConfig = cache.informer({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: opts.namespace ?? 'vmop-system',
      fieldSelector: `metadata.name=${NETWORK_CONFIGMAP}`,
    });
    this.volumeCaches = {
      claims: cache.informer({ apiVersion: 'v1', kind: 'PersistentVolumeClaim' }),
      volumes: cache.informer({ apiVersion: 'v1', kind: 'PersistentVolume' }),
      quotas: this.caches.quotas,
    };
    this.volumes = new VolumeAttacher(client, opts.provider, this.volumeCaches, (...args) => this.event(...args));
    this.ownership = new OwnershipCheck(opts.provider);
    const graceMs = opts.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
    if (graceMs > 0) {
      this.orphans = new OrphanCollector({
        provider: opts.provider,
        client,
        logger,
        graceMs,
        knownInstanceUUIDs: () => new Set(this.byInstanceUUID.keys()),
        registry: opts.registry,
      });
    }
    // vSphere reports changes by managed object ID (status.uniqueID) and instance UUID; either leads back to
    // the key (the ID also when vcsim reports an instance UUID that a deploy's reconfigure has replaced).
    this.vms.on((event, vm, old) => {
      const uuid = vm.spec?.instanceUUID?.toLowerCase();
      const id = vm.status?.uniqueID;
      const oldID = old?.status?.uniqueID;
      if (oldID && oldID !== id) this.byUniqueID.delete(oldID);
      if (event === 'delete') {
        if (uuid) this.byInstanceUUID.delete(uuid);
        if (id) this.byUniqueID.delete(id);
        return;
      }
      if (uuid) this.byInstanceUUID.set(uuid, objectKey(vm));
      if (id) this.byUniqueID.set(id, objectKey(vm));
    });
    // A dependency that appears or changes wakes the VMs of its namespace (all namespaces for cluster-scoped
    // ones) that are still waiting to be created.
    const waiting = (namespace?: string) => this.vms.byIndex(WAITING_VMS, namespace ?? '').map(objectKey);
    const dependency = (informer: Informer, namespaced: boolean): WatchSource => ({
      informer,
      keys: (obj) => waiting(namespaced ? obj.metadata.namespace : undefined),
    });
    // A claim that changes (bound, deleted) or a volume that changes wakes the VMs that name the claim.
    const claiming = (namespace: string | undefined, claim: string | undefined) =>
      this.vms.byIndex(VMS_BY_CLAIM, `${namespace}/${claim}`).map(objectKey);
    this.controller = new Controller({
      name: this.name,
      reconciler: { reconcile: (key) => this.reconcile(key) },
      sources: [
        { informer: this.vms as unknown as Informer },
        dependency(this.caches.classes, true),
        dependency(this.caches.images, true),
        dependency(this.caches.clusterImages, false),
        dependency(this.caches.storageClasses, false),
        dependency(this.caches.quotas, true),
        dependency(this.networks, true),
        // A claim answered (or refused), or its address, wakes the VM it belongs to.
        {
          informer: this.claims,
          keys: (c) => {
            const vm = (c.metadata.labels as Record<string, string> | undefined)?.[CLAIM_VM_LABEL];
            return vm ? [`${c.metadata.namespace}/${vm}`] : [];
          },
        },
        {
          informer: this.ipAddresses,
          keys: (a) => {
            const claim = this.claims.get(
              `${a.metadata.namespace}/${(a.spec as { claimRef?: { name?: string } } | undefined)?.claimRef?.name}`,
            );
            const vm = (claim?.metadata.labels as Record<string, string> | undefined)?.[CLAIM_VM_LABEL];
            return vm ? [`${a.metadata.namespace}/${vm}`] : [];
          },
        },
        { informer: this.volumeCaches.claims, keys: (pvc) => claiming(pvc.metadata.namespace, pvc.metadata.name) },
        // The network defaults feed every VM's status.network.config.
        { informer: this.networkConfig, keys: () => this.vms.list().map(objectKey) },
        {
          informer: this.volumeCaches.volumes,
          keys: (pv) => {
            const ref = (pv.spec as { claimRef?: { namespace?: string; name?: string } } | undefined)?.claimRef;
            return ref ? claiming(ref.namespace, ref.name) : [];
          },
        },
      ],
      concurrency: opts.concurrency ?? 8,
      logger,
      registry: opts.registry,
    });
    if (opts.registry) {
      const vms = this.vms;
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
    opts.provider.watchVMs((change) => {
      const key =
        this.byUniqueID.get(change.id) ??
        (change.instanceUUID ? this.byInstanceUUID.get(change.instanceUUID.toLowerCase()) : undefined);
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
          this.opts.logger.warn({ err: message(err) }, 'looking for orphaned vSphere VMs failed; trying again later'),
        );
      }, every);
      timer.unref();
      signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    }
    await this.controller.start(signal);
  }

  private get trySoftTimeoutMs(): number {
    return this.opts.trySoftTimeoutMs ?? DEFAULT_TRYSOFT_TIMEOUT_MS;
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const cached = this.vms.get(key);
    if (!cached) {
      this.softOps.delete(key);
      this.zoneChoices.delete(key);
      this.written.delete(key);
      this.ownership.forget(key);
      return;
    }
    if (cached.metadata.deletionTimestamp) return this.cleanup(cached);
    // The mutating webhook puts it on every new VM (saving each create a write and its echo); this is for VMs
    // created while no webhook ran.
    let vm = await ensureFinalizer(this.opts.client, cached, VM_FINALIZER);
    const spec = vm.spec ?? {};
    if (!spec.instanceUUID || !spec.biosUUID) {
      await this.writeStatus(vm, {}, [
        fail(
          CONDITIONS.created,
          'MissingUUID',
          'spec.instanceUUID and spec.biosUUID must be set (the mutating webhook sets them; is it installed?)',
        ),
      ]);
      return;
    }
    const ref = {
      namespace: vm.metadata.namespace!,
      name: vm.metadata.name!,
      uid: vm.metadata.uid ?? '',
      instanceUUID: spec.instanceUUID,
    };
    const conditions: ConditionUpdate[] = [];
    let observed: ObservedVM | undefined;
    try {
      observed = await this.opts.provider.findVM(spec.instanceUUID);
      // Found by instance UUID alone: act on it only if it was made for this very object.
      const why = observed && (await this.ownership.mismatch(key, ref, observed));
      if (why) throw new ProviderInputError(why, 'InstanceUUIDInUse');
    } catch (err) {
      if (err instanceof ProviderInputError) return this.refuse(vm, err);
      // The cache knew a VM that is gone by now (the provider forgot it): look again, in vSphere itself.
      if (err instanceof VMGoneError) return { requeueAfterMs: 1 };
      throw err;
    }
    let className = vm.status?.class?.name;
    let justCreated = false;
    // Each interface's Network: for creating the VM, and for its intended network config on every round.
    const nets = resolveNetworks(vm.metadata.namespace!, spec.network, this.networks);
    if (!observed) {
      const deps = resolveDependencies(vm, this.caches);
      conditions.push(...deps.conditions);
      // Static addresses first (VM Operator, too, creates a VM only once its interfaces are ready).
      const ipam = 'error' in nets ? undefined : await this.ipam.claimAddresses(vm, nets.interfaces);
      conditions.push(
        'error' in nets
          ? fail(NETWORK_READY, nets.reason, nets.error)
          : ipam!.pending
            ? fail(NETWORK_READY, ipam!.pending.reason, ipam!.pending.message)
            : { type: NETWORK_READY, status: 'True', reason: 'True', message: '' },
      );
      if (!deps.cls || !deps.image || !deps.storage || 'error' in nets || ipam?.pending) {
        const missing = conditions.filter((c) => c.status !== 'True');
        for (const c of missing)
          this.event(
            vm,
            'Warning',
            c.reason === 'NotFound' ? `${c.type.replace(/Ready$/, '')}NotFound` : c.reason,
            c.message,
          );
        await this.writeStatus(vm, {}, [
          ...conditions,
          fail(CONDITIONS.created, 'WaitingForDependencies', missing.map((c) => c.message).join('; ')),
        ]);
        return;
      }
      // The zone: its label, else the configured zone with the fewest VMs (none configured: the provider says so).
      const { zone, obj: labelled } = await this.zoneFor(vm);
      vm = labelled;
      try {
        observed = await this.opts.provider.createVM({
          ...ref,
          biosUUID: spec.biosUUID,
          guestID: spec.guestID,
          zone,
          imageItemID: deps.image.itemID,
          cpus: deps.cls.cpus,
          memoryMiB: deps.cls.memoryMiB,
          classConfigSpec: deps.cls.configSpec,
          interfaces: interfacesOf(spec.network).map((i) => i.name),
          interfaceNetworks: nets.interfaces.map((n) => n.portGroup),
          storagePolicyID: deps.storage.storagePolicyID,
        });
      } catch (err) {
        if (err instanceof ProviderInputError) {
          if (err.reason === 'InvalidGuestID') {
            conditions.push(
              fail(CONDITIONS.guestID, 'Invalid', `The specified guest ID value is not supported: ${spec.guestID}`),
            );
          }
          return this.refuse(vm, err, conditions);
        }
        this.event(vm, 'Warning', 'CreateFailed', `creating the vSphere VM failed: ${message(err)}; retrying`);
        throw err;
      }
      this.ownership.created(key, ref.uid, observed);
      className = deps.cls.name;
      this.zoneChoices.delete(key);
      this.event(
        vm,
        'Normal',
        'Created',
        `created vSphere VM ${observed.id} from ${deps.image.kind} ${deps.image.name} in zone ${zone} on host ${observed.host ?? 'unknown'}`,
      );
      justCreated = true;
    }
    if (spec.guestID) conditions.push({ type: CONDITIONS.guestID, status: 'True', reason: 'True', message: '' });
    conditions.push({ type: CONDITIONS.created, status: 'True', reason: 'True', message: '' });

    const volumes = await this.volumes.reconcile(vm, observed);
    vm = volumes.vm;
    if (volumes.condition) conditions.push(volumes.condition);
    const networkConfig = intendedNetworkConfig(
      vm.metadata.name!,
      spec.network,
      networkDefaults(this.networkConfig.get(`${this.opts.namespace ?? 'vmop-system'}/${NETWORK_CONFIGMAP}`)),
      'interfaces' in nets ? nets.interfaces.map((n) => n.modes) : [],
      'interfaces' in nets ? this.ipam.addressesOf(vm, nets.interfaces) : [],
    );
    const power = await this.reconcilePower(key, vm, observed, justCreated, volumes.pending, networkConfig);
    if (power.bootstrap) conditions.push(power.bootstrap);
    const customizing = spec.bootstrap?.linuxPrep || spec.bootstrap?.sysprep;
    const reported = customizing ? power.observed.customization : undefined;
    const mapped = reported ? CUSTOMIZATION_REASONS[reported.status] : undefined;
    if (reported && mapped) {
      conditions.push({
        type: GUEST_CUSTOMIZATION,
        status: mapped.status,
        reason: mapped.reason,
        message: reported.error ?? '',
      });
    }
    const { observed: powered, justPoweredOn } = power;
    const requeueAfterMs = minDefined(power.requeueAfterMs, volumes.requeueAfterMs);
    const fields: VMStatus = {
      uniqueID: powered.id,
      instanceUUID: powered.instanceUUID,
      biosUUID: powered.biosUUID,
      powerState: powered.powerState,
      ...(powered.host ? { host: powered.host } : {}),
      ...(powered.zone ? { zone: powered.zone } : {}),
      ...(powered.hardwareVersion ? { hardwareVersion: powered.hardwareVersion } : {}),
      ...(className ? { class: { apiVersion: API_VERSION, kind: 'VirtualMachineClass', name: className } } : {}),
      volumes: volumes.statuses,
      network: {
        ...(vm.status?.network ?? {}),
        ...(await this.observedInterfaces(vm, powered)),
        config: networkConfig,
        // Observed: the guest's primary address as VM Tools report it, by family.
        primaryIP4: powered.guestIP && !powered.guestIP.includes(':') ? powered.guestIP : undefined,
        primaryIP6: powered.guestIP?.includes(':') ? powered.guestIP : undefined,
      },
    };
    const restarted = await this.reconcileRestart(vm, powered, justPoweredOn);
    if (restarted) fields.lastRestartTime = restarted;
    const desired = spec.powerState ?? 'PoweredOn';
    conditions.push(
      powered.powerState === desired
        ? { type: CONDITIONS.ready, status: 'True', reason: 'True', message: '' }
        : power.bootstrap?.status === 'False'
          ? fail(
              CONDITIONS.ready,
              'BootstrapPending',
              `the VM is powered on once its bootstrap data is there: ${power.bootstrap.message}`,
            )
          : power.waitingForVolumes
            ? fail(
                CONDITIONS.ready,
                'VolumesPending',
                `the VM is powered on once its volumes are attached: ${volumes.pending.join('; ')}`,
              )
            : fail(
                CONDITIONS.ready,
                'PowerStatePending',
                `the VM is ${powered.powerState}; it is being made ${desired}`,
              ),
    );
    await this.writeStatus(vm, fields, conditions);
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }

  private async reconcilePower(
    key: string,
    vm: VM,
    observed: ObservedVM,
    justCreated: boolean,
    volumesPending: string[],
    networkConfig: NetworkConfig,
  ): Promise<{
    observed: ObservedVM;
    requeueAfterMs?: number;
    justPoweredOn: boolean;
    waitingForVolumes?: boolean;
    bootstrap?: ConditionUpdate;
  }> {
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
    // from PoweredOff. LinuxPrep and Sysprep customize the guest once, before its first power-on.
    let bootstrap: ConditionUpdate | undefined;
    const customize = this.bootstrap.needsCustomization(vm);
    // Only from PoweredOff: a suspended VM resumes where it was, and vSphere reconfigures only powered-off VMs.
    if (
      decision.op === 'powerOn' &&
      observed.powerState === 'PoweredOff' &&
      (spec.bootstrap?.cloudInit || customize || spec.bootstrap?.vAppConfig)
    ) {
      try {
        if (spec.bootstrap?.cloudInit) await this.bootstrap.writeCloudInit(vm, observed, networkConfig);
        else if (customize) await this.bootstrap.customizeGuest(vm, observed, networkConfig);
        if (spec.bootstrap?.vAppConfig) await this.bootstrap.writeVAppProperties(vm, observed);
        bootstrap = { type: BOOTSTRAP_READY, status: 'True', reason: 'True', message: '' };
      } catch (err) {
        if (err instanceof ProviderInputError) {
          this.event(vm, 'Warning', err.reason, err.message);
          return {
            observed,
            justPoweredOn: false,
            requeueAfterMs: 60_000,
            bootstrap: fail(BOOTSTRAP_READY, err.reason, err.message),
          };
        }
        if (!(err instanceof BootstrapDataError)) throw err;
        this.event(vm, 'Warning', err.reason, err.message);
        // Secrets are not watched (that would cache every Secret of the cluster): look again in a while.
        return {
          observed,
          justPoweredOn: false,
          requeueAfterMs: 10_000,
          bootstrap: fail(BOOTSTRAP_READY, err.reason, err.message),
        };
      }
    }
    try {
      await this.opts.provider.power(observed, decision.op);
    } catch (err) {
      this.event(vm, 'Warning', 'PowerOperationFailed', `${decision.op} failed: ${message(err)}; retrying`);
      throw err;
    }
    // The first power-on of a new VM is part of creating it ("Created" says so); later ones are news.
    if (!justCreated) this.event(vm, 'Normal', 'PowerOperation', `${decision.op} (${decision.reason})`);
    if (decision.soft) {
      this.softOps.set(key, { target: desired, since: Date.now() });
      // The change feed reports the new state when the guest gets there; this requeue is the timeout check.
      return { observed, requeueAfterMs: Math.min(this.trySoftTimeoutMs, 10_000), justPoweredOn: false };
    }
    this.softOps.delete(key);
    const state = AFTER_HARD_OP[decision.op] ?? observed.powerState;
    return { observed: { ...observed, powerState: state }, justPoweredOn: decision.op === 'powerOn', bootstrap };
  }

  /**
   * Restarts the VM when spec.nextRestartTime is later than status.lastRestartTime. The new lastRestartTime is
   * written before the restart is issued, so a manager that dies in between never restarts twice for one
   * request; a restart that vSphere refuses puts the old value back so it is tried again.
   */
  private async reconcileRestart(vm: VM, observed: ObservedVM, justPoweredOn: boolean): Promise<string | undefined> {
    const spec = vm.spec ?? {};
    const next = spec.nextRestartTime;
    if (!next || (spec.powerState ?? 'PoweredOn') !== 'PoweredOn' || observed.powerState !== 'PoweredOn')
      return undefined;
    if (!restartDue(next, vm.status?.lastRestartTime)) return undefined;
    const previous = vm.status?.lastRestartTime;
    await updateStatus<VM>(this.opts.client, vm, (s) => ({ ...s, lastRestartTime: next }));
    if (justPoweredOn) {
      this.event(vm, 'Normal', 'Restarted', 'the VM was powered on, which satisfies the restart request');
      return next;
    }
    // TrySoft's choice depends on VM Tools: ask vSphere, not the cache.
    const fresh = await this.opts.provider.refreshVM(observed);
    const op = restartOp(spec.restartMode ?? 'TrySoft', fresh.toolsRunning);
    try {
      await this.opts.provider.power(observed, op);
    } catch (err) {
      await updateStatus<VM>(this.opts.client, vm, (s) => {
        const { lastRestartTime, ...rest } = s as VMStatus;
        void lastRestartTime;
        return previous ? { ...rest, lastRestartTime: previous } : rest;
      }).catch(() => undefined);
      this.event(vm, 'Warning', 'RestartFailed', `${op} failed: ${message(err)}; retrying`);
      throw err;
    }
    this.event(vm, 'Normal', 'Restarted', `${op} for the request at ${next}`);
    return next;
  }

  /**
   * status.network.interfaces from the guest's adapters, read from vSphere only when the guest's primary
   * address differs from the one in status (so idle VMs cost no call).
   */
  private async observedInterfaces(vm: VM, observed: ObservedVM): Promise<Pick<NetworkStatus, 'interfaces'>> {
    if (!observed.guestIP) return {};
    const status = vm.status?.network;
    if (status?.interfaces && (status.primaryIP4 === observed.guestIP || status.primaryIP6 === observed.guestIP))
      return {};
    // The one cast left of the VM's status: guestInterfaces builds the schema's shape from the provider's
    // GuestNICs without typing the address origin and state as the schema's enums.
    const interfaces = guestInterfaces(vm.spec?.network, await this.opts.provider.guestNICs(observed));
    return { interfaces: interfaces as NetworkStatus['interfaces'] };
  }

  /** The VM's zone: its label, or a chosen one that is then written as the label (returns the stored object). */
  private async zoneFor(vm: VM): Promise<{ zone?: string; obj: VM }> {
    const key = objectKey(vm);
    const labelled = (vm.metadata.labels as Record<string, string> | undefined)?.[ZONE_LABEL];
    if (labelled) return { zone: labelled, obj: vm };
    let zone = this.zoneChoices.get(key);
    if (!zone) {
      const pending = new Map<string, number>();
      for (const [k, z] of this.zoneChoices) if (k !== key) pending.set(z, (pending.get(z) ?? 0) + 1);
      zone = chooseZone(await this.opts.provider.zones(), this.vms.list(), pending);
      if (!zone) return { obj: vm };
      this.zoneChoices.set(key, zone);
    }
    const obj = await this.opts.client.request<VM>('PATCH', await this.opts.client.objectPath(vm), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { [ZONE_LABEL]: zone } } },
    });
    return { zone, obj };
  }

  /** Records an Event without holding up the reconcile (the recorder never throws). */
  private event(...args: Parameters<EventRecorder['record']>): void {
    void this.opts.events.record(...args);
  }

  /** Input the user or admin must fix: a condition and an Event, and no retry until something changes. */
  private async refuse(
    vm: VM,
    err: ProviderInputError,
    conditions: ConditionUpdate[] = [],
  ): Promise<{ requeueAfterMs: number }> {
    this.event(vm, 'Warning', err.reason, err.message);
    await this.writeStatus(vm, {}, [...conditions, fail(CONDITIONS.created, err.reason, err.message)]);
    // vSphere-side causes (a datastore, a cluster) can change without any Kubernetes event: look again later.
    return { requeueAfterMs: 60_000 };
  }

  private async cleanup(vm: VM): Promise<void> {
    if (!(vm.metadata.finalizers ?? []).includes(VM_FINALIZER)) return;
    const key = objectKey(vm);
    const spec = vm.spec ?? {};
    if (spec.instanceUUID) {
      try {
        // Any failure to look (vCenter unreachable, provider misconfigured) keeps the finalizer: only a VM
        // that vSphere says is gone lets the object go.
        const owner = { namespace: vm.metadata.namespace!, name: vm.metadata.name!, uid: vm.metadata.uid ?? '' };
        let observed: ObservedVM | undefined;
        let why: string | undefined;
        // A VM the cache knew may be gone by now: then the provider forgets it and the second look asks vSphere.
        for (let attempt = 1; ; attempt++) {
          observed = await this.opts.provider.findVM(spec.instanceUUID);
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
          // The volumes' disks belong to their claims: detach them so they outlive the VM.
          vm = await this.volumes.detachAll(vm, observed);
          await this.opts.provider.destroyVM(observed);
          this.event(vm, 'Normal', 'Deleted', `destroyed vSphere VM ${observed.id}`);
        }
      } catch (err) {
        const msg = `cannot delete the vSphere VM yet: ${message(err)}; the VirtualMachine stays until it is gone`;
        this.event(vm, 'Warning', 'DeleteFailed', msg);
        await this.writeStatus(vm, {}, [fail(CONDITIONS.ready, 'DeleteFailed', msg)]).catch(() => undefined);
        throw err;
      }
    }
    // Its addresses go back to their pools now (the garbage collector would also do it, later).
    await this.ipam.release(vm);
    await removeFinalizer(this.opts.client, vm, VM_FINALIZER);
    this.softOps.delete(key);
    this.zoneChoices.delete(key);
    this.ownership.forget(key);
  }

  /**
   * Merges `fields` and `conditions` into the status. Nothing is written when the cached status already says
   * it all; otherwise one PUT on the cached resourceVersion, and a read-modify-write when that conflicts.
   */
  private async writeStatus(vm: VM, fields: VMStatus, conditions: ConditionUpdate[]): Promise<void> {
    const merge = (prev: VMStatus): VMStatus => {
      let list = prev.conditions;
      for (const c of conditions)
        list = setCondition(list, { ...c, observedGeneration: vm.metadata.generation as number | undefined });
      return { ...prev, ...fields, ...(list ? { conditions: list } : {}) };
    };
    // The cache may not have caught up with the status this controller wrote last (the reconcile was woken by
    // an earlier event): then that write is the base, not the older cached copy.
    const key = objectKey(vm);
    const last = this.written.get(key);
    let base = vm;
    if (last && last.uid === vm.metadata.uid && newerVersion(last.resourceVersion, vm.metadata.resourceVersion)) {
      base = { ...vm, metadata: { ...vm.metadata, resourceVersion: last.resourceVersion }, status: last.status };
    }
    const current = base.status ?? {};
    const next = merge(current);
    if (sameJSON(next, current)) return;
    if (this.opts.logger.isLevelEnabled('debug')) {
      const [was, now] = [current as Record<string, unknown>, next as Record<string, unknown>];
      const changed = Object.keys({ ...was, ...now }).filter((k) => !sameJSON(was[k], now[k]));
      this.opts.logger.debug({ key, changed, resourceVersion: base.metadata.resourceVersion }, 'writing status');
    }
    let stored: VM;
    try {
      stored = await this.opts.client.request<VM>('PUT', await this.opts.client.objectPath(vm, 'status'), {
        body: { ...base, status: next },
      });
    } catch (err) {
      if (!(err instanceof KubeAPIError && err.conflict)) throw err;
      stored = await updateStatus<VM>(this.opts.client, vm, (s) => merge(s as VMStatus));
    }
    this.written.set(key, {
      uid: vm.metadata.uid,
      resourceVersion: String(stored.metadata.resourceVersion),
      status: stored.status ?? {},
    });
  }
}

/** Whether resourceVersion `a` is later than `b` (etcd revisions; false when either is not a number). */
function newerVersion(a: string | undefined, b: unknown): boolean {
  try {
    return a !== undefined && typeof b === 'string' && BigInt(a) > BigInt(b);
  } catch {
    return false;
  }
}

/** The smaller of two optional delays. */
function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function fail(type: string, reason: string, msg: string): ConditionUpdate {
  return { type, status: 'False', reason, message: msg };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
