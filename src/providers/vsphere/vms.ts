// The VM side of the vSphere provider: find a VM by instance UUID (from the change-feed cache when it is
// there, otherwise with SearchIndex), deploy one from a content library item with its whole ConfigSpec in
// the deploy request, power operations, and destroy. The controller decides what to do; this only does it.
import { errorMessage, RetryAfterError, UserInputError } from '../../runtime/errors.js';
import { PbmClient } from '../../vsphere/pbm.js';
import { VimFault } from '../../vsphere/faults.js';
import { VapiError } from '../../vsphere/rest.js';
import { waitForTask } from '../../vsphere/tasks.js';
import { encodeDocument, VimEncodeError, type MoRef, type VimObject } from '../../vsphere/vim25/codec.js';
import type { Logger } from '../../runtime/logger.js';
import {
  VMGoneError,
  type CloudInitData,
  type DiskAttachment,
  type DiskInfo,
  type GuestIdentity,
  type CdromState,
  type GuestNIC,
  type NetworkConfig,
  type ObservedVM,
  type PowerOperation,
  type VMCreateRequest,
  type VMOwner,
  type VAppProperty,
  type VMProvider,
} from '../interface.js';
import { buildConfigSpec, EXTRA_CONFIG_KEYS } from './config-spec.js';
import { customizationSpec } from './customization.js';
import * as guest from './guest.js';
import * as hardware from './hardware.js';
import { guestInfo } from './guestinfo.js';
import { FirstClassDisks } from './disks.js';
import type { ConfigSource } from './images.js';
import { Placement } from './placement.js';
import type { Connection, VSphereSession } from './session.js';
import { observedVM, VMInventory, VM_PATHS } from './vm-inventory.js';

interface State {
  conn: Connection;
  placement: Placement;
  inventory: VMInventory;
  disks: FirstClassDisks;
}

const HARD: Partial<Record<PowerOperation, string>> = {
  powerOn: 'PowerOnVM_Task',
  powerOff: 'PowerOffVM_Task',
  suspend: 'SuspendVM_Task',
  reset: 'ResetVM_Task',
};
const AFTER_HARD: Partial<Record<PowerOperation, string>> = {
  powerOn: 'poweredOn',
  powerOff: 'poweredOff',
  suspend: 'suspended',
  reset: 'poweredOn',
};
const SOFT: Partial<Record<PowerOperation, string>> = {
  shutdownGuest: 'ShutdownGuest',
  standbyGuest: 'StandbyGuest',
  rebootGuest: 'RebootGuest',
};

/** How soon a create that found its name taken (a deploy under way, most likely) looks again. */
const NAME_IN_USE_RECHECK_MS = 2_000;

/** How far vCenter's clock may be off ours when telling a failed deploy's VM from an older one. */
const CLOCK_SKEW_MS = 60_000;

/** How soon a power operation refused because another task holds the VM is tried again. */
const TASK_BUSY_RETRY_MS = 5_000;

export class VSphereVMProvider implements VMProvider {
  private state?: Promise<State>;
  private stateConn?: Connection;
  private listeners: ((change: { id: string; instanceUUID?: string }) => void)[] = [];
  /** Objects (by UID) whose failed deploy's leftover could not be removed at once, with when that deploy started. */
  private readonly leftovers = new Map<string, number>();

  constructor(
    private readonly session: VSphereSession,
    private readonly source: ConfigSource,
    private readonly logger?: Logger,
  ) {}

  /** The connection with its placement cache and VM inventory; both are rebuilt when the connection changes. */
  private async current(): Promise<State> {
    const { config, credentials } = await this.source();
    const conn = await this.session.connect(config, credentials);
    if (this.state && this.stateConn === conn) return this.state;
    const old = this.state;
    this.stateConn = conn;
    this.state = (async () => {
      await old?.then((s) => s.inventory.stop()).catch(() => undefined);
      const placement = new Placement(conn.api, new PbmClient(conn.api.client), config);
      await placement.prime();
      const inventory = new VMInventory(
        conn.api.client,
        (change) => this.listeners.forEach((l) => l(change)),
        (id) => placement.zoneOfCluster(id),
        (err) => this.logger?.warn({ err: errorMessage(err) }, 'VM change feed failed; restarting it'),
      );
      const started = Date.now();
      inventory.onSynced = (vms) =>
        this.logger?.info({ vms, ms: Date.now() - started }, 'vSphere VM inventory synced from the change feed');
      inventory.start();
      return { conn, placement, inventory, disks: new FirstClassDisks(conn.api, placement) };
    })();
    const s = this.state;
    s.catch(() => {
      if (this.state === s) {
        this.state = undefined;
        this.stateConn = undefined;
      }
    });
    return s;
  }

  /** Starts the change feed now (rather than at the first reconcile) when vCenter is reachable. */
  async start(): Promise<void> {
    await this.current();
  }

  async stop(): Promise<void> {
    const s = await this.state?.catch(() => undefined);
    await s?.inventory.stop();
  }

  watchVMs(onChange: (change: { id: string; instanceUUID?: string }) => void): void {
    this.listeners.push(onChange);
  }

  async zones(): Promise<string[]> {
    const { config } = await this.source();
    return Object.keys(config.zones).sort();
  }

  async guestIDs(zone: string): Promise<Set<string>> {
    const { placement } = await this.current();
    return placement.guestOSIDs(await placement.cluster(zone));
  }

  private async read(s: State, ref: MoRef): Promise<ObservedVM> {
    const props = await s.conn.api.pc.one(ref, VM_PATHS);
    s.inventory.learn(ref.value, props);
    const cached = s.inventory.hostOf(props);
    let host = cached;
    if (!host && props['runtime.host']) {
      const h = await s.conn.api.pc.one(props['runtime.host'] as MoRef, ['name', 'parent']);
      const parent = h.parent as MoRef | undefined;
      host = { name: h.name as string, cluster: parent?.type === 'ClusterComputeResource' ? parent.value : undefined };
    }
    return observedVM(ref.value, props, host, (id) => s.placement.zoneOfCluster(id));
  }

  async findVM(instanceUUID: string): Promise<ObservedVM | undefined> {
    const s = await this.current();
    // The cache answers for VMs it knows; anything else is asked of vSphere (the cache may be behind).
    const cached = s.inventory.isSynced ? s.inventory.get(instanceUUID) : undefined;
    if (cached) return cached;
    const dc = await s.placement.datacenterRef();
    const byUUID = await s.conn.api.findVMByUuid(instanceUUID, true, dc);
    if (byUUID) return this.read(s, byUUID);
    // No VM has the instance UUID. (A deploy of this object cut short by a crash shows its VM in the inventory
    // early, under its name — createVM then refuses a second deploy as NameInUse until it carries the UUID —
    // and a second deploy that gets through anyway fails on vCenter's duplicate name in the folder; its retry
    // finds the first by its UUID.)
    return undefined;
  }

  async checkCreate(req: VMCreateRequest): Promise<void> {
    if (!req.zone) {
      throw new UserInputError('no zones are configured: add "zones" to ConfigMap vmop-provider-config', 'NoZones');
    }
    if (req.guestID && !(await this.guestIDs(req.zone)).has(req.guestID)) throw invalidGuestID(req.guestID, req.zone);
  }

  async createVM(req: VMCreateRequest): Promise<ObservedVM> {
    const s = await this.current();
    await this.checkCreate(req);
    const zone = req.zone!;
    const cluster = await s.placement.cluster(zone);
    const [folder, datastore] = await Promise.all([
      s.placement.folder(req.namespace),
      req.storagePolicyID ? s.placement.vmDatastore(cluster, req.storagePolicyID) : Promise.resolve(undefined),
    ]);
    // Each distinct network's NIC backing (a distributed port group needs its switch and key).
    const names = new Set(req.interfaces.map((_, i) => req.interfaceNetworks?.[i] ?? s.conn.config.network));
    const backings = new Map<string, VimObject>();
    for (const name of names) backings.set(name, await s.placement.networkBacking(name));
    const r = req.resources;
    const cpuMhz =
      r?.cpuRequest !== undefined || r?.cpuLimit !== undefined ? await s.placement.minHostCpuMHz(cluster) : undefined;
    let xml: string;
    try {
      xml = encodeDocument(
        buildConfigSpec(req, { network: s.conn.config.network, backings, cpuMhz }),
        'VirtualMachineConfigSpec',
      );
    } catch (err) {
      if (err instanceof VimEncodeError) {
        throw new UserInputError(
          `the VirtualMachineClass configSpec is not valid: ${err.message}`,
          'InvalidConfigSpec',
        );
      }
      throw err;
    }
    // A VM of this name in the folder that does not carry this object's instance UUID: another manager's
    // deploy of this very object still under way (it gets the UUID when the deploy reconfigures it; a manager
    // that starts reads the whole inventory, so it sees the deploy it did not start), or a VM that is not
    // ours. Either way not a second deploy.
    const named = s.inventory.named(req.name, folder.value) ?? [];
    if (named.length > 0) {
      const found = await this.findVM(req.instanceUUID);
      if (found) return found;
      // What a failed deploy of this object left behind, when it could not go at once, goes now; then this
      // deploy may have the name. (Only this process's record: after a restart the message says what to do.)
      const since = this.leftovers.get(req.uid);
      const removed = since !== undefined && (await this.removeHalfCreated(s, folder, req, since).catch(() => false));
      if (removed) this.leftovers.delete(req.uid);
      else {
        throw new UserInputError(
          `a vSphere VM named ${req.name} already exists in the folder of namespace ${req.namespace} without this VM's instance UUID: a deploy still under way, or another VM (then rename or remove it); looking again`,
          'NameInUse',
          { recheckAfterMs: NAME_IN_USE_RECHECK_MS },
        );
      }
    }
    const started = Date.now();
    try {
      const id = await s.conn.rest.deployOVF(
        req.imageItemID,
        { resourcePoolId: (cluster.props.resourcePool as MoRef).value, folderId: folder.value },
        { name: req.name, datastoreId: datastore?.value, storageProfileId: req.storagePolicyID, vmConfigSpecXML: xml },
      );
      this.leftovers.delete(req.uid);
      return await this.read(s, { type: 'VirtualMachine', value: id });
    } catch (err) {
      // Lost a race with an earlier deploy of the same object (its files or name exist): use that VM.
      const existing = await this.findVM(req.instanceUUID).catch(() => undefined);
      if (existing) return existing;
      // A deploy that failed half-way may leave its VM behind (made, never configured); it goes, so that the
      // retry is not refused for its name (if it cannot go now, the retry removes it).
      await this.removeHalfCreated(s, folder, req, started).catch(() => {
        this.leftovers.set(req.uid, started);
      });
      if (err instanceof VapiError && err.notFound) {
        throw new UserInputError(`content library item ${req.imageItemID} does not exist`, 'ImageNotFound');
      }
      throw err;
    }
  }

  /**
   * Destroys what a failed deploy of this object, started at `since`, left: the VM named as the request in its
   * folder, made since then (never an older VM of that name, say one made by hand), without this object's
   * instance UUID, whose owner keys are missing (never configured) or this object's, with no task running on
   * it. Another object's VM stays. True when one went.
   */
  private async removeHalfCreated(s: State, folder: MoRef, req: VMCreateRequest, since: number): Promise<boolean> {
    const ref = await s.conn.api.findChild(folder, req.name);
    if (!ref || ref.type !== 'VirtualMachine') return false;
    const { 'config.createDate': created } = await s.conn.api.pc.one(ref, ['config.createDate']);
    // (vCenter's clock may be a little off ours.)
    const at = created instanceof Date ? created.getTime() : typeof created === 'string' ? Date.parse(created) : NaN;
    if (!(at >= since - CLOCK_SKEW_MS)) return false;
    const left = await this.read(s, ref);
    if (left.instanceUUID === req.instanceUUID) return false;
    const owner = await this.vmOwner(left);
    if (owner && owner.uid !== req.uid) return false;
    const tasks = await s.conn.api.recentTasks(ref);
    if (tasks.some((t) => t.info.state === 'running' || t.info.state === 'queued')) return false;
    await this.destroyVM(left);
    return true;
  }

  async refreshVM(vm: ObservedVM): Promise<ObservedVM> {
    const s = await this.current();
    return this.read(s, { type: 'VirtualMachine', value: vm.id });
  }

  async power(vm: ObservedVM, op: PowerOperation): Promise<void> {
    const { conn, inventory } = await this.current();
    const ref: MoRef = { type: 'VirtualMachine', value: vm.id };
    try {
      const hard = HARD[op];
      if (hard) {
        const task = await conn.api.client.call<MoRef>(hard, ref, {});
        await waitForTask(conn.api.client, task);
        // The task is done, so the state is known now; the change feed may report it a moment later, and a
        // reconcile in between must not see the old state and ask again.
        const after = AFTER_HARD[op];
        if (after) inventory.learn(vm.id, { 'runtime.powerState': after });
      } else await conn.api.client.call(SOFT[op]!, ref, {});
    } catch (err) {
      // Already in the state asked for (the cache was behind): nothing to do.
      if (err instanceof VimFault && err.is('InvalidPowerState')) return;
      // Another task holds the VM (a reconfigure, a snapshot, someone in the vSphere Client): it ends within
      // seconds, so look again soon rather than after a growing backoff.
      if (err instanceof VimFault && err.is('TaskInProgress'))
        throw new RetryAfterError(err.message, TASK_BUSY_RETRY_MS);
      throw err;
    }
  }

  async vmOwner(vm: ObservedVM): Promise<VMOwner | undefined> {
    const { conn, inventory } = await this.current();
    const extra = await conn.api.pc
      .one({ type: 'VirtualMachine', value: vm.id }, ['config.extraConfig'])
      .then((props) => props['config.extraConfig'])
      .catch((err: unknown) => {
        if (err instanceof VimFault && err.is('ManagedObjectNotFound')) {
          inventory.forget(vm.id);
          throw new VMGoneError(vm.id);
        }
        throw err;
      });
    const values = new Map(
      ((extra as { key?: unknown; value?: unknown }[] | undefined) ?? []).map((o) => [String(o.key), o.value]),
    );
    const [namespace, name, uid] = [EXTRA_CONFIG_KEYS.namespace, EXTRA_CONFIG_KEYS.name, EXTRA_CONFIG_KEYS.uid].map(
      (k) => values.get(k),
    );
    if (typeof namespace !== 'string' || typeof name !== 'string' || typeof uid !== 'string') return undefined;
    return { namespace, name, uid };
  }

  async listVMs(): Promise<ObservedVM[]> {
    const { inventory } = await this.current();
    return inventory.list();
  }

  async destroyVM(vm: ObservedVM): Promise<void> {
    const { conn, inventory } = await this.current();
    const ref: MoRef = { type: 'VirtualMachine', value: vm.id };
    try {
      if (vm.powerState !== 'PoweredOff') {
        await conn.api.powerOff(ref).catch((err: unknown) => {
          if (!(err instanceof VimFault && err.is('InvalidPowerState'))) throw err;
        });
      }
      await conn.api.destroy(ref);
    } catch (err) {
      if (!(err instanceof VimFault && err.is('ManagedObjectNotFound'))) throw err;
    }
    // Gone: a look-up right after must not find it in the cache before the change feed says so.
    inventory.forget(vm.id);
  }

  // First Class Disks (PersistentVolumeClaim volumes)

  async disk(id: string): Promise<DiskInfo | undefined> {
    return (await this.current()).disks.disk(id);
  }

  async diskAttachment(vm: ObservedVM, diskID: string): Promise<DiskAttachment> {
    return (await this.current()).disks.attachment(vm, diskID);
  }

  async attachDisk(vm: ObservedVM, diskID: string): Promise<void> {
    await (await this.current()).disks.attach(vm, diskID);
  }

  async detachDisk(vm: ObservedVM, diskID: string): Promise<void> {
    await (await this.current()).disks.detach(vm, diskID);
  }

  // Guest bootstrap

  async nicMACs(vm: ObservedVM): Promise<string[]> {
    const { conn } = await this.current();
    const ref: MoRef = { type: 'VirtualMachine', value: vm.id };
    const { 'config.hardware.device': devices } = await conn.api.pc.one(ref, ['config.hardware.device']);
    return ((devices as { key: number; macAddress?: string }[] | undefined) ?? [])
      .filter((d) => typeof d.macAddress === 'string')
      .sort((a, b) => a.key - b.key)
      .map((d) => d.macAddress!);
  }

  async writeCloudInit(vm: ObservedVM, data: CloudInitData): Promise<void> {
    const { conn } = await this.current();
    await guest.writeExtraConfig(conn, vm, guestInfo(data.metadata, data.userData));
  }

  async customizeGuest(vm: ObservedVM, c: { identity: GuestIdentity; network: NetworkConfig }): Promise<void> {
    const { conn } = await this.current();
    await guest.customize(conn, vm, customizationSpec(c.network, await this.nicMACs(vm), c.identity));
  }

  async vAppProperties(vm: ObservedVM): Promise<VAppProperty[]> {
    const { conn } = await this.current();
    return (await guest.vAppPropertyInfos(conn, vm)).map((p) => ({ id: String(p.id), value: String(p.value ?? '') }));
  }

  async setVAppProperties(vm: ObservedVM, values: VAppProperty[]): Promise<void> {
    const { conn } = await this.current();
    await guest.setVAppProperties(conn, vm, values);
  }

  async setGuestID(vm: ObservedVM, guestID: string): Promise<void> {
    const { conn, inventory } = await this.current();
    if (vm.zone && !(await this.guestIDs(vm.zone)).has(guestID)) throw invalidGuestID(guestID, vm.zone);
    await conn.api.reconfigure(
      { type: 'VirtualMachine', value: vm.id },
      { _typeName: 'VirtualMachineConfigSpec', guestId: guestID },
    );
    inventory.learn(vm.id, { 'config.guestId': guestID });
  }

  async bootDiskCapacity(vm: ObservedVM): Promise<number | undefined> {
    const { conn } = await this.current();
    return hardware.bootDiskCapacity(conn, vm);
  }

  async growBootDisk(vm: ObservedVM, bytes: number): Promise<void> {
    const { conn } = await this.current();
    await hardware.growBootDisk(conn, vm, bytes);
  }

  async upgradeHardware(vm: ObservedVM, version: number): Promise<void> {
    const { conn, inventory } = await this.current();
    if (!(await hardware.upgradeHardware(conn, vm, version))) return;
    inventory.learn(vm.id, { 'config.version': `vmx-${String(version).padStart(2, '0')}` });
  }

  async relocateVM(vm: ObservedVM, zone: string): Promise<void> {
    const s = await this.current();
    const cluster = await s.placement.cluster(zone);
    const host = await s.placement.hostOf(cluster);
    try {
      await s.conn.api.relocate(
        { type: 'VirtualMachine', value: vm.id },
        { _typeName: 'VirtualMachineRelocateSpec', pool: cluster.props.resourcePool as MoRef, host },
      );
    } catch (err) {
      // vSphere's reasons a VM cannot move there (storage the hosts do not see, CPU compatibility, …).
      if (
        err instanceof VimFault &&
        (err.is('MigrationFault') || err.is('InvalidArgument') || err.is('NotSupported'))
      ) {
        throw new UserInputError(`vSphere cannot move the VM to zone ${zone}: ${err.message}`, 'RelocateFailed');
      }
      throw err;
    }
  }

  /** ISO datastore paths by library item (an item's file does not move). */
  private readonly isoPaths = new Map<string, string>();

  async isoPath(itemID: string): Promise<string> {
    const known = this.isoPaths.get(itemID);
    if (known) return known;
    const { conn } = await this.current();
    const found = await hardware.isoPath(conn, itemID);
    this.isoPaths.set(itemID, found);
    return found;
  }

  async cdroms(vm: ObservedVM): Promise<CdromState[]> {
    const { conn } = await this.current();
    return (await hardware.cdroms(conn, vm)).map(({ isoPath, connected, allowGuestControl }) => ({
      isoPath,
      connected,
      allowGuestControl,
    }));
  }

  async setCdroms(vm: ObservedVM, cdroms: CdromState[]): Promise<void> {
    const { conn } = await this.current();
    await hardware.setCdroms(conn, vm, cdroms);
  }

  async guestInfo(vm: ObservedVM, keys: string[]): Promise<Record<string, string>> {
    const { conn } = await this.current();
    return guest.guestInfo(conn, vm, keys);
  }

  async guestNICs(vm: ObservedVM): Promise<GuestNIC[]> {
    const { conn } = await this.current();
    return guest.guestNICs(conn, vm);
  }
}

function invalidGuestID(guestID: string, zone: string): UserInputError {
  return new UserInputError(
    `spec.guestID "${guestID}" is not a guest OS identifier of zone ${zone}; list them with govc vm.option.info -cluster CLUSTER`,
    'InvalidGuestID',
  );
}
