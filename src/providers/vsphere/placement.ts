// Where a new VM goes: the zone's cluster (its root resource pool), a folder per namespace under the
// datacenter's VM folder, and the datastore of that cluster with the most free space that satisfies the
// storage policy (a disk: one such datastore chosen by its key). Lookups are
// cached per connection (the inventory is read again when a name is not found), so a burst of creates costs
// a handful of calls, not a handful per VM.
import { UserInputError } from '../../runtime/errors.js';
import { createHash } from 'node:crypto';
import type { VSphereAPI } from '../../vsphere/api.js';
import { VimFault } from '../../vsphere/faults.js';
import type { PbmClient } from '../../vsphere/pbm.js';
import type { RetrievedObject } from '../../vsphere/property-collector.js';
import type { MoRef, VimObject } from '../../vsphere/vim25/codec.js';
import type { ProviderConfig } from './config.js';

export interface Target {
  cluster: MoRef;
  resourcePool: MoRef;
  folder: MoRef;
  datastore?: MoRef;
}

const DATASTORE_CACHE_MS = 60_000;
/** How long a reading of the datastores' free space serves (a burst of creates reads it once). */
const FREE_SPACE_CACHE_MS = 10_000;

type Cache<T> = Map<string, { at: number; value: Promise<T> }>;

/** The promise kept for `key` (for `ttlMs`), made when missing; a rejected one is forgotten so the next call tries again. */
function remembered<T>(cache: Cache<T>, key: string, make: () => Promise<T>, ttlMs = Infinity): Promise<T> {
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < ttlMs) return hit.value;
  const entry = { at: Date.now(), value: make() };
  cache.set(key, entry);
  entry.value.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
  });
  return entry.value;
}

export class Placement {
  private inventory?: Promise<Awaited<ReturnType<VSphereAPI['inventory']>>>;
  private readonly folders: Cache<MoRef> = new Map();
  private readonly datastores: Cache<MoRef[]> = new Map();
  private readonly freeSpace: Cache<Map<string, number>> = new Map();
  private readonly guestIDs: Cache<Set<string>> = new Map();
  private readonly backings: Cache<VimObject> = new Map();
  private readonly cpuMhz: Cache<number> = new Map();

  constructor(
    private readonly api: VSphereAPI,
    private readonly pbm: PbmClient,
    private readonly config: ProviderConfig,
  ) {}

  private async inv(refresh = false) {
    if (refresh || !this.inventory) {
      const p = this.api.inventory();
      this.inventory = p;
      p.catch(() => {
        if (this.inventory === p) this.inventory = undefined;
      });
    }
    return this.inventory!;
  }

  private async datacenter(): Promise<RetrievedObject> {
    const find = async (refresh: boolean) =>
      (await this.inv(refresh)).datacenters.find((d) => d.props.name === this.config.datacenter);
    const dc = (await find(false)) ?? (await find(true));
    if (!dc) {
      throw new UserInputError(
        `datacenter "${this.config.datacenter}" (key "datacenter" of ConfigMap vmop-provider-config) does not exist in vCenter`,
        'DatacenterNotFound',
      );
    }
    return dc;
  }

  async datacenterRef(): Promise<MoRef> {
    return (await this.datacenter()).obj;
  }

  /**
   * The NIC backing for the vSphere network named `name`: a standard port group by name, a distributed port
   * group by its switch's UUID and its key.
   */
  networkBacking(name: string): Promise<VimObject> {
    return remembered(this.backings, name, async () => {
      const networks = await this.api.pc.containerObjects(['Network', 'DistributedVirtualPortgroup'], ['name']);
      const found = networks.find((n) => n.props.name === name);
      if (!found) {
        throw new UserInputError(
          `vSphere network "${name}" does not exist (list them with govc ls /DC0/network)`,
          'NetworkNotFound',
        );
      }
      if (found.obj.type !== 'DistributedVirtualPortgroup') {
        return { _typeName: 'VirtualEthernetCardNetworkBackingInfo', deviceName: name };
      }
      const pg = await this.api.pc.one(found.obj, ['key', 'config.distributedVirtualSwitch']);
      const { uuid } = await this.api.pc.one(pg['config.distributedVirtualSwitch'] as MoRef, ['uuid']);
      return {
        _typeName: 'VirtualEthernetCardDistributedVirtualPortBackingInfo',
        port: {
          _typeName: 'DistributedVirtualSwitchPortConnection',
          switchUuid: String(uuid),
          portgroupKey: String(pg.key ?? found.obj.value),
        },
      };
    });
  }

  /** The vSphere cluster of a zone. */
  async cluster(zone: string): Promise<RetrievedObject> {
    const name = this.config.zones[zone]?.cluster;
    if (!name) {
      throw new UserInputError(
        `zone "${zone}" is not configured; add it to key "zones" of ConfigMap vmop-provider-config (known: ${Object.keys(this.config.zones).join(', ') || 'none'})`,
        'ZoneNotFound',
      );
    }
    const find = async (refresh: boolean) => (await this.inv(refresh)).clusters.find((c) => c.props.name === name);
    const cluster = (await find(false)) ?? (await find(true));
    if (!cluster) {
      throw new UserInputError(`cluster "${name}" of zone "${zone}" does not exist in vCenter`, 'ClusterNotFound');
    }
    return cluster;
  }

  /** A host of the cluster a VM can move to: connected, not in maintenance mode (the first by name). */
  async hostOf(cluster: RetrievedObject): Promise<MoRef> {
    const pick = async (refresh: boolean) =>
      (await this.inv(refresh)).hosts
        .filter(
          (h) =>
            (h.props.parent as MoRef | undefined)?.value === cluster.obj.value &&
            h.props['runtime.connectionState'] === 'connected' &&
            h.props['runtime.inMaintenanceMode'] !== true,
        )
        .sort((a, b) => String(a.props.name).localeCompare(String(b.props.name)))[0]?.obj;
    const host = (await pick(false)) ?? (await pick(true));
    if (!host) {
      throw new UserInputError(
        `cluster ${String(cluster.props.name)} has no connected host out of maintenance mode`,
        'NoHost',
      );
    }
    return host;
  }

  /**
   * The slowest clock (MHz) of the cluster's hosts: a class's CPU requests and limits, in vCPUs, become MHz at
   * this rate, so a reservation fits on any host of the cluster (read at most every 10 minutes).
   */
  minHostCpuMHz(cluster: RetrievedObject): Promise<number> {
    return remembered(
      this.cpuMhz,
      cluster.obj.value,
      async () => {
        const hosts = (cluster.props.host as MoRef[] | undefined) ?? [];
        const props = await this.api.pc.properties(hosts, 'HostSystem', ['summary.hardware.cpuMhz']);
        const rates = props.map((h) => Number(h.props['summary.hardware.cpuMhz'])).filter((n) => n > 0);
        if (rates.length === 0)
          throw new Error(`the hosts of cluster ${String(cluster.props.name)} report no CPU clock`);
        return Math.min(...rates);
      },
      10 * 60_000,
    );
  }

  /** The zone whose cluster has this managed object ID (from the cached inventory). */
  zoneOfCluster(clusterID: string): string | undefined {
    return this.clusterZones.get(clusterID);
  }

  private clusterZones = new Map<string, string>();

  /** Reads the inventory once so zoneOfCluster can answer. */
  async prime(): Promise<void> {
    const inv = await this.inv();
    for (const [zone, { cluster }] of Object.entries(this.config.zones)) {
      const c = inv.clusters.find((x) => x.props.name === cluster);
      if (c) this.clusterZones.set(c.obj.value, zone);
    }
  }

  /** The folder for a namespace's VMs, created when missing. */
  folder(namespace: string): Promise<MoRef> {
    return remembered(this.folders, namespace, () => this.ensureFolder(namespace));
  }

  private async ensureFolder(namespace: string): Promise<MoRef> {
    const dc = await this.datacenter();
    const path = `/${this.config.datacenter}/vm/${namespace}`;
    const found = await this.api.findByInventoryPath(path);
    if (found) return found;
    try {
      return await this.api.client.call<MoRef>('CreateFolder', dc.props.vmFolder as MoRef, { name: namespace });
    } catch (err) {
      // Another manager (or an earlier attempt) made it meanwhile.
      if (err instanceof VimFault && err.is('DuplicateName')) {
        const again = await this.api.findByInventoryPath(path);
        if (again) return again;
      }
      throw err;
    }
  }

  /**
   * The datastore for a disk: one of the cluster's datastores that satisfy the policy, chosen by a hash of the
   * disk's key. The same disk always gets the same datastore (so a create repeated after a crash finds the
   * first one by its name there), and disks spread over all of them.
   */
  async datastore(cluster: RetrievedObject, policyID: string, key: string): Promise<MoRef> {
    const list = await this.compatible(cluster, policyID);
    const n = createHash('sha1').update(key).digest().readUInt32BE(0);
    return list[n % list.length]!;
  }

  /**
   * The datastore for a VM: of the cluster's datastores that satisfy the policy, the one with the most free
   * space (read at most every FREE_SPACE_CACHE_MS; ties go by ID). A deploy repeated after a crash cannot make
   * a second VM wherever it lands: vCenter refuses a second VM of one name in a folder.
   */
  async vmDatastore(cluster: RetrievedObject, policyID: string): Promise<MoRef> {
    const list = await this.compatible(cluster, policyID);
    const free = await remembered(
      this.freeSpace,
      `${cluster.obj.value}/${policyID}`,
      async () =>
        new Map(
          (await this.api.pc.properties(list, 'Datastore', ['summary.freeSpace'])).map((d) => [
            d.obj.value,
            Number(d.props['summary.freeSpace'] ?? 0),
          ]),
        ),
      FREE_SPACE_CACHE_MS,
    );
    return mostFreeSpace(list, free);
  }

  private compatible(cluster: RetrievedObject, policyID: string): Promise<MoRef[]> {
    return remembered(
      this.datastores,
      `${cluster.obj.value}/${policyID}`,
      () => this.compatibleDatastores(cluster, policyID),
      DATASTORE_CACHE_MS,
    );
  }

  private async compatibleDatastores(cluster: RetrievedObject, policyID: string): Promise<MoRef[]> {
    const candidates = ((cluster.props.datastore as MoRef[] | undefined) ?? []).map((d) => d.value);
    const matching = new Set(await this.pbm.matchingDatastores(policyID, candidates));
    const inv = await this.inv();
    const usable = inv.datastores
      .filter((d) => matching.has(d.obj.value) && candidates.includes(d.obj.value))
      .sort((a, b) => a.obj.value.localeCompare(b.obj.value));
    if (usable.length === 0) {
      throw new UserInputError(
        `no datastore of cluster "${String(cluster.props.name)}" satisfies storage policy ${policyID}`,
        'NoCompatibleDatastore',
      );
    }
    return usable.map((d) => d.obj);
  }

  /** Guest OS identifiers the cluster's environment browser offers (cached). */
  guestOSIDs(cluster: RetrievedObject): Promise<Set<string>> {
    return remembered(this.guestIDs, cluster.obj.value, () =>
      this.api.guestOSDescriptors(cluster.obj).then((list) => new Set(list.map((d) => d.id))),
    );
  }
}

/** Of the datastores, the one with the most free space (bytes by ID; unknown counts as none), ties by ID. */
export function mostFreeSpace(list: MoRef[], free: Map<string, number>): MoRef {
  return [...list].sort(
    (a, b) => (free.get(b.value) ?? 0) - (free.get(a.value) ?? 0) || a.value.localeCompare(b.value),
  )[0]!;
}
