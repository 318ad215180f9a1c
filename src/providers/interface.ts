// What controllers may ask of a VM provider. Controllers see only this interface; providers/vsphere
// implements it with the vSphere client.

export interface ImageDetails {
  osType?: string;
  osID?: string;
  osDescription?: string;
  osVersion?: string;
  hardwareVersion?: number;
  firmware?: string;
  product?: { product?: string; vendor?: string; version?: string; fullVersion?: string };
  properties: { key: string; type: string; default?: string; userConfigurable: boolean }[];
  capabilities: string[];
  diskCapacityBytes?: number;
}

export interface LibraryImage {
  itemID: string;
  libraryID: string;
  name: string;
  /** OVF or ISO. */
  type: string;
  contentVersion?: string;
  /** Read from the item's OVF; left out when `known` says the content version did not change. */
  details?: ImageDetails;
}

export interface ImageProvider {
  /**
   * The items of a content library (by name or ID). `known` maps item IDs to the content version already
   * mirrored, so unchanged items are not downloaded again.
   */
  listLibraryImages(library: string, known: ReadonlyMap<string, string>): Promise<LibraryImage[]>;
}

// VMs

export type VMPowerState = 'PoweredOn' | 'PoweredOff' | 'Suspended';

/** A vSphere VM as the provider last saw it. */
export interface ObservedVM {
  /** Managed object ID, e.g. vm-42. */
  id: string;
  name: string;
  instanceUUID: string;
  biosUUID: string;
  powerState: VMPowerState;
  /** Name of the ESXi host it runs on. */
  host?: string;
  /** Zone of the cluster it runs in, when the cluster is one of the configured zones. */
  zone?: string;
  hardwareVersion?: number;
  guestID?: string;
  /** VM Tools run in the guest, so soft power operations can work. */
  toolsRunning: boolean;
  /** Guest OS customization as the guest reports it (TOOLSDEPLOYPKG_PENDING, …_RUNNING, …_SUCCEEDED, …_FAILED). */
  customization?: { status: string; error?: string };
  /** The guest's primary IP address as VM Tools report it. */
  guestIP?: string;
}

/** Everything needed to create one VM; resolved by the controller from the VM's class, image and storage class. */
export interface VMCreateRequest {
  namespace: string;
  name: string;
  /** The Kubernetes object's UID, written into the VM so it can be traced back. */
  uid: string;
  instanceUUID: string;
  biosUUID: string;
  guestID?: string;
  zone: string;
  /** Content library item that supplies the disks. */
  imageItemID: string;
  cpus?: number;
  memoryMiB?: number;
  /** The class's configSpec (vim25 JSON, `_typeName` tagged). */
  classConfigSpec?: Record<string, unknown>;
  /** Network interfaces to create, in order. */
  interfaces: string[];
  /** The vSphere network (port group name) of each interface; the provider's default network where missing. */
  interfaceNetworks?: (string | undefined)[];
  storagePolicyID?: string;
}

export type PowerOperation =
  'powerOn' | 'powerOff' | 'suspend' | 'reset' | 'shutdownGuest' | 'standbyGuest' | 'rebootGuest';

/** A problem the user or admin must fix (bad class configSpec, unknown guest ID, no datastore for the policy). */
export class ProviderInputError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'ProviderInputError';
  }
}

/** The VM no longer exists in vSphere (destroyed since it was last seen). */
export class VMGoneError extends Error {
  constructor(readonly id: string) {
    super(`vSphere VM ${id} no longer exists`);
    this.name = 'VMGoneError';
  }
}

// Disks

/** A First Class Disk: the volume behind a vSphere CSI PersistentVolume (its spec.csi.volumeHandle is the ID). */
export interface DiskInfo {
  id: string;
  name: string;
  capacityBytes: number;
  /** UUIDs of the VMs it is attached to, as vSphere records them. */
  consumers: string[];
}

export interface DiskAttachment {
  attached: boolean;
  /** UUID of the VM's virtual disk device backed by it, when vSphere shows one. */
  diskUUID?: string;
}

/** Creates and deletes First Class Disks (the local environment's stand-in for the vSphere CSI driver). */
export interface DiskProvider {
  /** A disk named `name` of at least `capacityBytes` on a datastore the policy allows; an existing one of that name is returned. */
  createDisk(name: string, capacityBytes: number, storagePolicyID?: string): Promise<DiskInfo>;
  /** Deletes the disk; one that is already gone is fine. */
  deleteDisk(id: string): Promise<void>;
  /** The disk, or undefined when no datastore has it. */
  disk(id: string): Promise<DiskInfo | undefined>;
}

/** The Kubernetes object a VM was created for, as the provider recorded it on the VM at create. */
export interface VMOwner {
  namespace: string;
  name: string;
  uid: string;
}

export interface VMProvider {
  /** The configured zone names. */
  zones(): Promise<string[]>;
  /** The VM with this instance UUID; undefined when there is none. */
  findVM(instanceUUID: string): Promise<ObservedVM | undefined>;
  /** The guest OS identifiers the zone's environment supports. */
  guestIDs(zone: string): Promise<Set<string>>;
  createVM(req: VMCreateRequest): Promise<ObservedVM>;
  /** The VM read from vSphere now, not from a cache (before acting on its power state or VM Tools). */
  refreshVM(vm: ObservedVM): Promise<ObservedVM>;
  power(vm: ObservedVM, op: PowerOperation): Promise<void>;
  /**
   * The object the VM was created for (the owner keys written at create); undefined for a VM that carries
   * none (one not created by this operator). A VM that no longer exists is a VMGoneError (and the provider
   * forgets what it cached of it).
   */
  vmOwner(vm: ObservedVM): Promise<VMOwner | undefined>;
  /** Every VM the provider's cache holds; empty while the cache is not synced. */
  listVMs(): Promise<ObservedVM[]>;
  /** Powers the VM off (hard) if it runs, then destroys it; a VM that is already gone is fine. */
  destroyVM(vm: ObservedVM): Promise<void>;
  /**
   * Calls `onChange` for every VM vSphere reports changed (power, host, config), with its managed object ID
   * and the instance UUID as last reported.
   */
  watchVMs(onChange: (change: { id: string; instanceUUID?: string }) => void): void;
  /** The disk, or undefined when no datastore has it. */
  disk(id: string): Promise<DiskInfo | undefined>;
  /** Whether the disk is attached to the VM (a device of the VM, or the disk names the VM as its consumer). */
  diskAttachment(vm: ObservedVM, diskID: string): Promise<DiskAttachment>;
  /** Attaches the disk (AttachDisk_Task); waits for the task. */
  attachDisk(vm: ObservedVM, diskID: string): Promise<void>;
  /** Detaches the disk (DetachDisk_Task); a disk that is not attached or gone is fine. The disk itself stays. */
  detachDisk(vm: ObservedVM, diskID: string): Promise<void>;
  /** MAC addresses of the VM's network adapters, in device order (the order of spec.network.interfaces). */
  nicMACs(vm: ObservedVM): Promise<string[]>;
  /** Sets ExtraConfig keys (guest bootstrap data); waits for the reconfigure task. */
  setExtraConfig(vm: ObservedVM, entries: Record<string, string>): Promise<void>;
  /**
   * Applies a guest customization spec (vim25 JSON) to the powered-off VM, for its next power-on; a
   * customization already pending is fine. Invalid input is a ProviderInputError.
   */
  customize(vm: ObservedVM, spec: Record<string, unknown>): Promise<void>;
  /** The guest's network adapters as VM Tools report them (vim25 GuestNicInfo objects). */
  guestNICs(vm: ObservedVM): Promise<Record<string, unknown>[]>;
  /** The VM's vApp properties (vim25 VAppPropertyInfo objects: key, id, type, value, …). */
  vAppProperties(vm: ObservedVM): Promise<Record<string, unknown>[]>;
  /** Edits existing vApp properties (whole VAppPropertyInfo objects); waits for the reconfigure task. */
  setVAppProperties(vm: ObservedVM, properties: Record<string, unknown>[]): Promise<void>;
}
