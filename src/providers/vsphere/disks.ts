// First Class Disks (vSphere's VStorageObjects, what the vSphere CSI driver provisions for a PVC): find one by
// ID on whichever datastore holds it, create one by name on a datastore the storage policy allows (an
// existing one of that name is reused, so a repeated create after a crash makes no second disk), delete,
// and attach to or detach from a VM. Whether a disk is attached is read from vSphere each time: the VM's
// devices (a VirtualDisk whose vDiskId is the disk) or the disk's consumer list.
import { VimFault } from '../../vsphere/faults.js';
import type { VSphereAPI } from '../../vsphere/api.js';
import type { MoRef, VimObject } from '../../vsphere/vim25/codec.js';
import type { DiskAttachment, DiskInfo, ObservedVM } from '../interface.js';
import type { Placement } from './placement.js';

const MiB = 1024 * 1024;

function diskInfo(obj: VimObject): DiskInfo {
  const config = obj.config as {
    id: { id: string };
    name: string;
    capacityInMB: number;
    consumerId?: { id: string }[];
  };
  return {
    id: config.id.id,
    name: config.name,
    capacityBytes: Number(config.capacityInMB) * MiB,
    consumers: (config.consumerId ?? []).map((c) => c.id.toLowerCase()),
  };
}

/** The fault vSphere answers for a disk that is not on the datastore asked (or not anywhere). */
function isNotFound(err: unknown): boolean {
  return err instanceof VimFault && (err.is('NotFound') || err.is('InvalidArgument') || err.is('FileNotFound'));
}

export class FirstClassDisks {
  /** Which datastore holds a disk, once found. */
  private readonly where = new Map<string, MoRef>();
  /**
   * Names of the disks already read, by ID: a create looks up its name among a datastore's disks, and reads
   * only those it has not seen before (so N creates cost N reads, not N² as when every disk was read again).
   */
  private readonly names = new Map<string, string>();

  constructor(
    private readonly api: VSphereAPI,
    private readonly placement: Placement,
  ) {}

  private async datastores(): Promise<MoRef[]> {
    return (await this.api.inventory()).datastores.map((d) => d.obj);
  }

  /** The disk and its datastore, looking where it was last seen first. */
  private async locate(id: string): Promise<{ info: DiskInfo; datastore: MoRef } | undefined> {
    const known = this.where.get(id);
    const candidates = known
      ? [known, ...(await this.datastores()).filter((d) => d.value !== known.value)]
      : await this.datastores();
    for (const datastore of candidates) {
      try {
        const info = diskInfo(await this.api.retrieveDisk(id, datastore));
        this.where.set(id, datastore);
        return { info, datastore };
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    this.where.delete(id);
    return undefined;
  }

  async disk(id: string): Promise<DiskInfo | undefined> {
    return (await this.locate(id))?.info;
  }

  async create(
    name: string,
    capacityBytes: number,
    cluster: Parameters<Placement['datastore']>[0],
    policyID?: string,
  ): Promise<DiskInfo> {
    // The same name always goes to the same datastore, where an earlier create of it is found again.
    const datastore = policyID
      ? await this.placement.datastore(cluster, policyID, `disk/${name}`)
      : ((cluster.props.datastore as MoRef[] | undefined) ?? [])[0];
    if (!datastore) throw new Error(`no datastore for disk ${name}`);
    const ids = await this.api.listDisks(datastore);
    const known = ids.find((id) => this.names.get(id) === name);
    for (const id of known ? [known] : ids.filter((i) => !this.names.has(i))) {
      let info: DiskInfo;
      try {
        info = diskInfo(await this.api.retrieveDisk(id, datastore));
      } catch (err) {
        if (isNotFound(err)) continue; // deleted since it was listed
        throw err;
      }
      this.names.set(info.id, info.name);
      if (info.name === name) {
        this.where.set(info.id, datastore);
        return info;
      }
    }
    const created = diskInfo(
      await this.api.createDisk(name, Math.max(1, Math.ceil(capacityBytes / MiB)), datastore, policyID),
    );
    this.where.set(created.id, datastore);
    this.names.set(created.id, created.name);
    return created;
  }

  async delete(id: string): Promise<void> {
    const found = await this.locate(id);
    if (!found) return;
    try {
      await this.api.deleteDisk(id, found.datastore);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.where.delete(id);
    this.names.delete(id);
  }

  async attachment(vm: ObservedVM, id: string): Promise<DiskAttachment> {
    const ref: MoRef = { type: 'VirtualMachine', value: vm.id };
    const { 'config.hardware.device': devices } = await this.api.pc.one(ref, ['config.hardware.device']);
    for (const d of (devices as VimObject[] | undefined) ?? []) {
      const vDiskId = (d as { vDiskId?: { id?: string } }).vDiskId?.id;
      if (d._typeName === 'VirtualDisk' && vDiskId === id) {
        return { attached: true, diskUUID: (d.backing as { uuid?: string } | undefined)?.uuid };
      }
    }
    // No device (yet): the disk's consumer list still says whether vSphere counts it as attached to this VM
    // (stock vcsim records an attachment only there; vmop's ground adds the device as vCenter does).
    const info = await this.disk(id);
    const mine = [vm.biosUUID, vm.instanceUUID].map((u) => u.toLowerCase());
    return { attached: !!info && info.consumers.some((c) => mine.includes(c)) };
  }

  async attach(vm: ObservedVM, id: string): Promise<void> {
    const found = await this.locate(id);
    if (!found) throw new Error(`First Class Disk ${id} does not exist on any datastore`);
    await this.api.attachDisk({ type: 'VirtualMachine', value: vm.id }, id, found.datastore);
  }

  async detach(vm: ObservedVM, id: string): Promise<void> {
    // Never act on a disk this VM does not hold: the ID may come from a record someone else wrote, and a
    // detach names only the disk, not the VM it is attached to (vcsim would detach it from any VM).
    if (!(await this.attachment(vm, id)).attached) return;
    try {
      await this.api.detachDisk({ type: 'VirtualMachine', value: vm.id }, id);
    } catch (err) {
      // Not attached (any more), or gone: what detaching asks for.
      if (isNotFound(err) || (err instanceof VimFault && err.is('InvalidState'))) return;
      throw err;
    }
  }
}
