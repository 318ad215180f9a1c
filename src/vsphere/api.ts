// Typed wrappers for the vim25 methods the operator uses: look-ups by UUID, VM create/clone/reconfigure,
// power operations (hard and through the guest), guest customization, destroy, templates, First Class Disks,
// guest OS descriptors, and the inventory. Task methods wait for their task and return its result.
import type { VimClient } from './client.js';
import { PropertyCollector, type RetrievedObject } from './property-collector.js';
import { waitForTask, type TaskInfo, type WaitOptions } from './tasks.js';
import type { MoRef, VimObject } from './vim25/codec.js';

export interface GuestOSDescriptor {
  id: string;
  family?: string;
  fullName?: string;
}

export interface Inventory {
  datacenters: RetrievedObject[];
  clusters: RetrievedObject[];
  hosts: RetrievedObject[];
  resourcePools: RetrievedObject[];
  datastores: RetrievedObject[];
  networks: RetrievedObject[];
  folders: RetrievedObject[];
}

export class VSphereAPI {
  readonly pc: PropertyCollector;

  constructor(readonly client: VimClient) {
    this.pc = new PropertyCollector(client);
  }

  private get content() {
    return this.client.serviceContent;
  }

  private async task(method: string, self: MoRef, args: Record<string, unknown>, wait?: WaitOptions): Promise<unknown> {
    const task = await this.client.call<MoRef>(method, self, args, wait?.signal);
    return waitForTask(this.client, task, wait);
  }

  // Look-ups

  /** The VM whose instance UUID (instanceUuid: true) or BIOS UUID (false) is `uuid`. */
  async findVMByUuid(uuid: string, instanceUuid: boolean, datacenter?: MoRef): Promise<MoRef | undefined> {
    const searchIndex = this.content.searchIndex;
    if (!searchIndex) throw new Error('this endpoint has no SearchIndex');
    return this.client.call<MoRef | undefined>('FindByUuid', searchIndex, {
      datacenter,
      uuid,
      vmSearch: true,
      instanceUuid,
    });
  }

  async findAllVMsByUuid(uuid: string, instanceUuid: boolean, datacenter?: MoRef): Promise<MoRef[]> {
    const searchIndex = this.content.searchIndex;
    if (!searchIndex) throw new Error('this endpoint has no SearchIndex');
    return (
      (await this.client.call<MoRef[] | undefined>('FindAllByUuid', searchIndex, {
        datacenter,
        uuid,
        vmSearch: true,
        instanceUuid,
      })) ?? []
    );
  }

  async findByInventoryPath(path: string): Promise<MoRef | undefined> {
    const searchIndex = this.content.searchIndex;
    if (!searchIndex) throw new Error('this endpoint has no SearchIndex');
    return this.client.call<MoRef | undefined>('FindByInventoryPath', searchIndex, { inventoryPath: path });
  }

  /** The child of a folder (or other container) with this name, if any (SearchIndex.FindChild). */
  async findChild(entity: MoRef, name: string): Promise<MoRef | undefined> {
    const searchIndex = this.content.searchIndex;
    if (!searchIndex) throw new Error('this endpoint has no SearchIndex');
    return this.client.call<MoRef | undefined>('FindChild', searchIndex, { entity, name });
  }

  // VM lifecycle

  async createVM(folder: MoRef, config: VimObject, pool: MoRef, host?: MoRef, wait?: WaitOptions): Promise<MoRef> {
    return (await this.task('CreateVM_Task', folder, { config, pool, host }, wait)) as MoRef;
  }

  async cloneVM(vm: MoRef, folder: MoRef, name: string, spec: VimObject, wait?: WaitOptions): Promise<MoRef> {
    return (await this.task('CloneVM_Task', vm, { folder, name, spec }, wait)) as MoRef;
  }

  async reconfigure(vm: MoRef, spec: VimObject, wait?: WaitOptions): Promise<void> {
    await this.task('ReconfigVM_Task', vm, { spec }, wait);
  }

  /** RelocateVM_Task: moves the VM (live when it runs) to the pool, host or datastore the spec names. */
  async relocate(vm: MoRef, spec: VimObject, wait?: WaitOptions): Promise<void> {
    await this.task('RelocateVM_Task', vm, { spec }, wait);
  }

  /** UpgradeVM_Task to a hardware version such as "vmx-21" (the VM must be powered off). */
  async upgradeVM(vm: MoRef, version: string, wait?: WaitOptions): Promise<void> {
    await this.task('UpgradeVM_Task', vm, { version }, wait);
  }

  async powerOn(vm: MoRef, wait?: WaitOptions): Promise<void> {
    await this.task('PowerOnVM_Task', vm, {}, wait);
  }

  async powerOff(vm: MoRef, wait?: WaitOptions): Promise<void> {
    await this.task('PowerOffVM_Task', vm, {}, wait);
  }

  async suspend(vm: MoRef, wait?: WaitOptions): Promise<void> {
    await this.task('SuspendVM_Task', vm, {}, wait);
  }

  async reset(vm: MoRef, wait?: WaitOptions): Promise<void> {
    await this.task('ResetVM_Task', vm, {}, wait);
  }

  /** Asks VM Tools in the guest to shut down; returns once the request is accepted. */
  async shutdownGuest(vm: MoRef): Promise<void> {
    await this.client.call('ShutdownGuest', vm);
  }

  async standbyGuest(vm: MoRef): Promise<void> {
    await this.client.call('StandbyGuest', vm);
  }

  async rebootGuest(vm: MoRef): Promise<void> {
    await this.client.call('RebootGuest', vm);
  }

  async customize(vm: MoRef, spec: VimObject, wait?: WaitOptions): Promise<void> {
    await this.task('CustomizeVM_Task', vm, { spec }, wait);
  }

  async destroy(entity: MoRef, wait?: WaitOptions): Promise<void> {
    await this.task('Destroy_Task', entity, {}, wait);
  }

  async markAsTemplate(vm: MoRef): Promise<void> {
    await this.client.call('MarkAsTemplate', vm);
  }

  // First Class Disks

  async attachDisk(
    vm: MoRef,
    diskId: string,
    datastore: MoRef,
    opts: { controllerKey?: number; unitNumber?: number } = {},
    wait?: WaitOptions,
  ): Promise<void> {
    await this.task('AttachDisk_Task', vm, { diskId: { _typeName: 'ID', id: diskId }, datastore, ...opts }, wait);
  }

  async detachDisk(vm: MoRef, diskId: string, wait?: WaitOptions): Promise<void> {
    await this.task('DetachDisk_Task', vm, { diskId: { _typeName: 'ID', id: diskId } }, wait);
  }

  private storageObjectManager(): MoRef {
    const m = this.content.vStorageObjectManager;
    if (!m) throw new Error('this endpoint has no VStorageObjectManager');
    return m;
  }

  /** Creates a First Class Disk of `capacityMB` on `datastore`; returns the VStorageObject. */
  async createDisk(
    name: string,
    capacityMB: number,
    datastore: MoRef,
    profileId?: string,
    wait?: WaitOptions,
  ): Promise<VimObject> {
    const spec: VimObject = {
      _typeName: 'VslmCreateSpec',
      name,
      // The disk outlives any VM it is attached to (a volume belongs to its claim, not to the VM).
      keepAfterDeleteVm: true,
      capacityInMB: capacityMB,
      backingSpec: { _typeName: 'VslmCreateSpecDiskFileBackingSpec', datastore, provisioningType: 'thin' },
      ...(profileId ? { profile: [{ _typeName: 'VirtualMachineDefinedProfileSpec', profileId }] } : {}),
    };
    return (await this.task('CreateDisk_Task', this.storageObjectManager(), { spec }, wait)) as VimObject;
  }

  async retrieveDisk(id: string, datastore: MoRef): Promise<VimObject> {
    return this.client.call<VimObject>('RetrieveVStorageObject', this.storageObjectManager(), {
      id: { _typeName: 'ID', id },
      datastore,
    });
  }

  /** The IDs of the First Class Disks on `datastore`. */
  async listDisks(datastore: MoRef): Promise<string[]> {
    const ids = await this.client.call<{ id: string }[] | undefined>(
      'ListVStorageObject',
      this.storageObjectManager(),
      {
        datastore,
      },
    );
    return (ids ?? []).map((i) => i.id);
  }

  async deleteDisk(id: string, datastore: MoRef, wait?: WaitOptions): Promise<void> {
    await this.task(
      'DeleteVStorageObject_Task',
      this.storageObjectManager(),
      { id: { _typeName: 'ID', id }, datastore },
      wait,
    );
  }

  // Environment

  /** The guest OS identifiers a cluster's (or host's) environment browser offers. */
  async guestOSDescriptors(computeResource: MoRef): Promise<GuestOSDescriptor[]> {
    const { environmentBrowser } = await this.pc.one(computeResource, ['environmentBrowser']);
    if (!environmentBrowser) throw new Error(`${computeResource.value} has no environment browser`);
    const option = await this.client.call<{ guestOSDescriptor?: GuestOSDescriptor[] } | undefined>(
      'QueryConfigOptionEx',
      environmentBrowser as MoRef,
      {
        spec: { _typeName: 'EnvironmentBrowserConfigOptionQuerySpec' },
      },
    );
    return (option?.guestOSDescriptor ?? []).map((d) => ({ id: d.id, family: d.family, fullName: d.fullName }));
  }

  /** The hardware versions ("vmx-19" …) a compute resource supports. */
  async configOptionDescriptors(
    computeResource: MoRef,
  ): Promise<{ key: string; description?: string; defaultConfigOption?: boolean }[]> {
    const { environmentBrowser } = await this.pc.one(computeResource, ['environmentBrowser']);
    if (!environmentBrowser) throw new Error(`${computeResource.value} has no environment browser`);
    return (
      (await this.client.call<{ key: string; description?: string; defaultConfigOption?: boolean }[] | undefined>(
        'QueryConfigOptionDescriptor',
        environmentBrowser as MoRef,
      )) ?? []
    );
  }

  /** The datacenter, cluster, host, pool, datastore, network and folder objects, each with its main properties. */
  async inventory(): Promise<Inventory> {
    const list = (types: string[], paths: string[]) => this.pc.containerObjects(types, paths);
    const [datacenters, clusters, hosts, resourcePools, datastores, networks, folders] = await Promise.all([
      list(['Datacenter'], ['name', 'vmFolder', 'hostFolder', 'datastoreFolder', 'networkFolder']),
      list(['ClusterComputeResource'], ['name', 'host', 'resourcePool', 'datastore', 'network', 'environmentBrowser']),
      list(['HostSystem'], ['name', 'parent', 'runtime.connectionState', 'runtime.inMaintenanceMode']),
      list(['ResourcePool'], ['name', 'parent', 'owner']),
      list(['Datastore'], ['name', 'summary.url', 'summary.freeSpace', 'summary.capacity', 'summary.type']),
      list(['Network', 'DistributedVirtualPortgroup'], ['name']),
      list(['Folder'], ['name', 'parent', 'childType']),
    ]);
    return { datacenters, clusters, hosts, resourcePools, datastores, networks, folders };
  }

  /** The recent tasks of an entity, with their info. */
  async recentTasks(entity: MoRef): Promise<{ task: MoRef; info: TaskInfo }[]> {
    const { recentTask } = await this.pc.one(entity, ['recentTask']);
    const tasks = (recentTask as MoRef[] | undefined) ?? [];
    const infos = await this.pc.properties(tasks, 'Task', ['info']);
    return infos.map((t) => ({ task: t.obj, info: (t.props.info ?? {}) as TaskInfo }));
  }
}
