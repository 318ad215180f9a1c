// A cache of every VM (and host) in vCenter, kept by one change feed: reconciles of VMs that exist read their
// power state, host and UUIDs from here instead of asking vSphere, and every change vSphere reports is passed
// on (by instance UUID) so the controller reconciles the VM it belongs to. Out-of-band changes (a VM powered
// off with govc) therefore reach the controller within a WaitForUpdatesEx round trip.
import { ChangeFeed, type ChangeFeedOptions } from '../../vsphere/change-feed.js';
import type { VimClient } from '../../vsphere/client.js';
import type { ObjectUpdate } from '../../vsphere/property-collector.js';
import type { MoRef } from '../../vsphere/vim25/codec.js';
import type { ObservedVM, VMPowerState } from '../interface.js';

export const VM_PATHS = [
  'name',
  'parent',
  'config.instanceUuid',
  'config.uuid',
  'config.version',
  'config.guestId',
  'config.template',
  'runtime.powerState',
  'runtime.host',
  'guest.toolsRunningStatus',
  'guest.customizationInfo',
  'guest.ipAddress',
  'guestHeartbeatStatus',
];
const HOST_PATHS = ['name', 'parent'];

/** What the inventory's change feed watches (the benchmark's floor opens the same feed). */
export const FEED_SHAPE: Pick<ChangeFeedOptions, 'types' | 'paths' | 'pathsByType'> = {
  types: ['VirtualMachine', 'HostSystem'],
  paths: VM_PATHS,
  pathsByType: { HostSystem: HOST_PATHS },
};

const POWER: Record<string, VMPowerState> = {
  poweredOn: 'PoweredOn',
  poweredOff: 'PoweredOff',
  suspended: 'Suspended',
};

function customization(info: unknown): Pick<ObservedVM, 'customization'> {
  const i = info as { customizationStatus?: string; errorMsg?: string } | undefined;
  if (!i?.customizationStatus) return {};
  return { customization: { status: i.customizationStatus, ...(i.errorMsg ? { error: i.errorMsg } : {}) } };
}

/** Turns a VM's properties (as the property collector names them) into what the controller sees. */
export function observedVM(
  id: string,
  props: Record<string, unknown>,
  host?: { name?: string; cluster?: string },
  zoneOfCluster?: (clusterID: string) => string | undefined,
): ObservedVM {
  const version = String(props['config.version'] ?? '');
  const hw = /^vmx-(\d+)$/.exec(version);
  return {
    id,
    name: String(props.name ?? ''),
    instanceUUID: String(props['config.instanceUuid'] ?? ''),
    biosUUID: String(props['config.uuid'] ?? ''),
    powerState: POWER[String(props['runtime.powerState'])] ?? 'PoweredOff',
    host: host?.name,
    zone: host?.cluster ? zoneOfCluster?.(host.cluster) : undefined,
    hardwareVersion: hw ? Number(hw[1]) : undefined,
    guestID: typeof props['config.guestId'] === 'string' ? props['config.guestId'] : undefined,
    toolsRunning: props['guest.toolsRunningStatus'] === 'guestToolsRunning',
    ...customization(props['guest.customizationInfo']),
    ...(typeof props['guest.ipAddress'] === 'string' && props['guest.ipAddress']
      ? { guestIP: props['guest.ipAddress'] }
      : {}),
    ...(typeof props.guestHeartbeatStatus === 'string' && props.guestHeartbeatStatus
      ? { guestHeartbeat: props.guestHeartbeatStatus }
      : {}),
  };
}

export class VMInventory {
  private readonly vms = new Map<string, Record<string, unknown>>();
  private readonly hosts = new Map<string, Record<string, unknown>>();
  private readonly byInstanceUUID = new Map<string, string>();
  private readonly feed: ChangeFeed;
  private synced = false;

  constructor(
    client: VimClient,
    private readonly onChange: (change: { id: string; instanceUUID?: string }) => void,
    private readonly zoneOfCluster: (clusterID: string) => string | undefined,
    onError?: (err: unknown) => void,
  ) {
    this.feed = new ChangeFeed(client, {
      ...FEED_SHAPE,
      onUpdates: (updates, initial) => this.apply(updates, initial),
      onError: (err) => {
        this.synced = false;
        onError?.(err);
      },
    });
  }

  start(): void {
    this.feed.start();
  }

  stop(): Promise<void> {
    return this.feed.stop();
  }

  /** The cache holds every VM (the first full batch arrived and no error happened since). */
  get isSynced(): boolean {
    return this.synced;
  }

  /** Called each time the cache becomes synced (first batch, or again after the feed restarted). */
  onSynced?: (vms: number) => void;

  /** The VM with this instance UUID as last reported; undefined when it is unknown (or the cache is not synced). */
  get(instanceUUID: string): ObservedVM | undefined {
    const id = this.byInstanceUUID.get(instanceUUID.toLowerCase());
    const props = id ? this.vms.get(id) : undefined;
    if (!id || !props) return undefined;
    return observedVM(id, props, this.hostOf(props), this.zoneOfCluster);
  }

  /**
   * The IDs and instance UUIDs of the VMs named `name` in folder `folderID`, as last reported; undefined
   * while the cache is not synced.
   */
  named(name: string, folderID: string): { id: string; instanceUUID?: string }[] | undefined {
    if (!this.synced) return undefined;
    const out: { id: string; instanceUUID?: string }[] = [];
    for (const [id, props] of this.vms) {
      if (props.name !== name || (props.parent as MoRef | undefined)?.value !== folderID) continue;
      const uuid = props['config.instanceUuid'];
      out.push({ id, instanceUUID: typeof uuid === 'string' ? uuid : undefined });
    }
    return out;
  }

  /** Every VM in the cache (none while it is not synced). */
  list(): ObservedVM[] {
    if (!this.synced) return [];
    return [...this.vms].map(([id, props]) => observedVM(id, props, this.hostOf(props), this.zoneOfCluster));
  }

  /** Host name and cluster ID of a VM's host, from the cache. */
  hostOf(props: Record<string, unknown>): { name?: string; cluster?: string } | undefined {
    const ref = props['runtime.host'] as MoRef | undefined;
    const host = ref ? this.hosts.get(ref.value) : undefined;
    if (!host) return undefined;
    const parent = host.parent as MoRef | undefined;
    return {
      name: typeof host.name === 'string' ? host.name : undefined,
      cluster: parent?.type === 'ClusterComputeResource' ? parent.value : undefined,
    };
  }

  private apply(updates: ObjectUpdate[], initial: boolean, fromFeed = true): void {
    if (initial) {
      this.vms.clear();
      this.hosts.clear();
      this.byInstanceUUID.clear();
    }
    const changed = new Map<string, string | undefined>();
    for (const u of updates) {
      const map = u.obj.type === 'HostSystem' ? this.hosts : this.vms;
      const id = u.obj.value;
      if (u.kind === 'leave') {
        const old = map.get(id);
        map.delete(id);
        const uuid = old?.['config.instanceUuid'];
        if (typeof uuid === 'string') this.byInstanceUUID.delete(uuid.toLowerCase());
        if (u.obj.type === 'VirtualMachine') changed.set(id, typeof uuid === 'string' ? uuid : undefined);
        continue;
      }
      const known = map.get(id);
      const props = { ...(known ?? {}) };
      // (vcsim sometimes reports a VM that entered a container view only by its later changes: the cache then
      // holds part of it until the provider reads it in full and learns the rest.)
      const oldUUID = props['config.instanceUuid'];
      for (const c of u.changeSet ?? []) {
        if (c.op === 'remove' || c.op === 'indirectRemove') delete props[c.name];
        else props[c.name] = c.val;
      }
      map.set(id, props);
      if (u.obj.type !== 'VirtualMachine') continue;
      const uuid = props['config.instanceUuid'];
      if (typeof oldUUID === 'string' && oldUUID !== uuid) this.byInstanceUUID.delete(oldUUID.toLowerCase());
      if (typeof uuid === 'string' && uuid) this.byInstanceUUID.set(uuid.toLowerCase(), id);
      changed.set(id, typeof uuid === 'string' && uuid ? uuid : undefined);
    }
    if (!fromFeed) return;
    if (!this.synced) this.onSynced?.(this.vms.size);
    this.synced = true;
    for (const [id, instanceUUID] of changed) this.onChange({ id, instanceUUID });
  }

  /**
   * Drops a VM that vSphere says no longer exists (a read after its destroy can re-add what the feed had
   * already removed); the next lookup by instance UUID asks vSphere.
   */
  forget(id: string): void {
    // As if the feed had reported it leaving, without telling the listeners.
    this.apply([{ kind: 'leave', obj: { type: 'VirtualMachine', value: id } }], false, false);
  }

  /**
   * Records properties read directly from vSphere. vcsim does not report every property a deploy's
   * reconfigure changes (the instance UUID among them), so what the provider reads wins over the feed.
   * Listeners are not told (the reconcile that read it has it already; telling them would only queue that
   * VM's reconcile once more), and the cache does not count as synced for it.
   */
  learn(id: string, props: Record<string, unknown>): void {
    this.apply(
      [
        {
          kind: 'enter',
          obj: { type: 'VirtualMachine', value: id },
          changeSet: Object.entries(props).map(([name, val]) => ({ name, op: 'assign' as const, val })),
        },
      ],
      false,
      false,
    );
  }
}
