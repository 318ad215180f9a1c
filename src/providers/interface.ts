// What controllers may ask of a VM provider. Controllers see only this interface; providers/vsphere
// implements it with the vSphere client.
import type { VirtualMachineClassSpec } from '../api/v1alpha3/virtualmachineclass.js';

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
  /** The image's disks in OVF order: a name unique in the image (the device's label) and the capacity. */
  disks: { name: string; capacityBytes: number }[];
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
  /** The guest heartbeat as vSphere rates it: green, yellow, red or gray (none). */
  guestHeartbeat?: string;
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
  /** The zone to place it in; none when no zone is configured (a UserInputError (runtime/errors.ts) NoZones). */
  zone?: string;
  /** Content library item that supplies the disks. */
  imageItemID: string;
  cpus?: number;
  memoryMiB?: number;
  /** The class's spec.configSpec, as the API carries it (vSphere's VirtualMachineConfigSpec in JSON). */
  classConfigSpec?: VirtualMachineClassSpec['configSpec'];
  /**
   * The class's spec.policies.resources: CPU in vCPUs (a reservation or limit of that many of the cluster's
   * slowest host's cores), memory in bytes. The configSpec's own allocations win where it has them.
   */
  resources?: ResourcePolicy;
  /** The class's spec.hardware.devices: vGPU profiles and dynamic DirectPath I/O devices (PCI passthrough). */
  devices?: ClassDevices;
  /** Network interfaces to create, in order. */
  interfaces: string[];
  /** The vSphere network (port group name) of each interface; the provider's default network where missing. */
  interfaceNetworks?: (string | undefined)[];
  storagePolicyID?: string;
}

export interface ClassDevices {
  vgpuProfiles: string[];
  directPath: { vendorID: number; deviceID: number; customLabel?: string }[];
}

export interface ResourcePolicy {
  cpuRequest?: number;
  cpuLimit?: number;
  memoryRequestBytes?: number;
  memoryLimitBytes?: number;
}

export type PowerOperation =
  'powerOn' | 'powerOff' | 'suspend' | 'reset' | 'shutdownGuest' | 'standbyGuest' | 'rebootGuest';

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

// Guest bootstrap, in the API's terms (the provider turns them into vSphere's shapes)

/** One interface of the intended guest network config (status.network.config.interfaces[]). */
export interface ConfigInterface {
  name: string;
  ip?: {
    addresses?: string[];
    dhcp?: { ip4?: { enabled: boolean }; ip6?: { enabled: boolean } };
    gateway4?: string;
    gateway6?: string;
  };
  dns?: { nameservers?: string[]; searchDomains?: string[] };
}

/** The network configuration the guest is given (status.network.config). */
export interface NetworkConfig {
  dns: { hostName: string; domainName?: string; nameservers?: string[]; searchDomains?: string[] };
  interfaces?: ConfigInterface[];
}

/** Who the guest becomes under LinuxPrep or Sysprep (secrets already read). */
export type GuestIdentity =
  | {
      kind: 'linuxPrep';
      timeZone?: string;
      hardwareClockIsUTC?: boolean;
      /** New root password. */
      password?: string;
      /** The password expires at the first log-in. */
      expirePassword?: boolean;
      /** Shell script run before and after customization. */
      scriptText?: string;
    }
  | {
      kind: 'sysprep';
      rawXML?: string;
      /** The Administrators' passwords expire at the next log-on. */
      expirePassword?: boolean;
      /** Batch script run before and after customization. */
      scriptText?: string;
      /** Commands run at the first log-on (GuiRunOnce). */
      runOnce?: string[];
      /** Organizational unit of the computer account when joining a domain. */
      domainOU?: string;
      /** Windows Server licensing (LicenseFilePrintData). */
      license?: { autoMode: 'perSeat' | 'perServer'; autoUsers?: number };
      timeZone?: number;
      fullName?: string;
      orgName?: string;
      /** Administrator password. */
      password?: string;
      autoLogon?: boolean;
      autoLogonCount?: number;
      /** Product key. */
      productID?: string;
      /** Join the network config's domain with this account and password... */
      domainAdmin?: string;
      domainAdminPassword?: string;
      /** ...or this workgroup (WORKGROUP by default). */
      joinWorkgroup?: string;
    };

/** Cloud-Init data for VMware's guestinfo datasource: documents, not yet encoded. */
export interface CloudInitData {
  metadata: string;
  userData?: string;
}

/** A vApp (OVF) property of a VM, by its ID. */
export interface VAppProperty {
  id: string;
  value: string;
}

/** A guest network adapter as VM Tools report it (MAC, address origin and state in lower case). */
export interface GuestNIC {
  /** Device key of the VM's adapter (device order is the order of spec.network.interfaces). */
  deviceKey: number;
  macAddress?: string;
  addresses: { ip: string; prefixLength?: number; origin?: string; state?: string; lifetime?: string }[];
  dhcp4?: boolean;
  dhcp6?: boolean;
  autoConfiguration?: boolean;
  dns?: { dhcp?: boolean; hostName?: string; domainName?: string; nameservers?: string[]; searchDomains?: string[] };
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
  /**
   * Creates the VM. Input the admin or user must fix is a UserInputError: no zone (NoZones), a guest ID
   * the zone does not offer (InvalidGuestID), a class configSpec vSphere cannot take, no datastore for the policy.
   */
  createVM(req: VMCreateRequest): Promise<ObservedVM>;
  /**
   * The quick checks of a create (no zone, an unknown guest ID, a class configSpec vSphere cannot take), as
   * UserInputErrors, before the long deploy starts beside the reconcile; createVM makes them again.
   */
  checkCreate(req: VMCreateRequest): Promise<void>;
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
  /**
   * Writes Cloud-Init data where VMware's guestinfo datasource reads it; waits for the reconfigure task. Data
   * too large for vSphere's guestinfo is a UserInputError (reason BootstrapDataTooLarge).
   */
  writeCloudInit(vm: ObservedVM, data: CloudInitData): Promise<void>;
  /**
   * Hands a LinuxPrep or Sysprep customization (identity, and the network config matched to the VM's NICs) to
   * the powered-off VM for its next power-on; one already pending is fine. Invalid input is a UserInputError.
   */
  customizeGuest(vm: ObservedVM, c: { identity: GuestIdentity; network: NetworkConfig }): Promise<void>;
  /** The guest's network adapters as VM Tools report them. */
  guestNICs(vm: ObservedVM): Promise<GuestNIC[]>;
  /** The values of the VM's `guestinfo.<key>` ExtraConfig keys (read now), by key; keys without one are absent. */
  guestInfo(vm: ObservedVM, keys: string[]): Promise<Record<string, string>>;
  /** The VM's vApp properties. */
  vAppProperties(vm: ObservedVM): Promise<VAppProperty[]>;
  /** Sets existing vApp properties to new values; waits for the reconfigure task. */
  setVAppProperties(vm: ObservedVM, values: VAppProperty[]): Promise<void>;
  /**
   * Sets the guest OS identifier of a powered-off VM (a reconfigure). One its zone does not know is a
   * UserInputError (reason InvalidGuestID).
   */
  setGuestID(vm: ObservedVM, guestID: string): Promise<void>;
  /** The capacity in bytes of the VM's boot disk (its first disk that is not a volume's); undefined without one. */
  bootDiskCapacity(vm: ObservedVM): Promise<number | undefined>;
  /** Grows the boot disk to at least `bytes` (never shrinks it); waits for the reconfigure task. */
  growBootDisk(vm: ObservedVM, bytes: number): Promise<void>;
  /**
   * Upgrades the powered-off VM's virtual hardware to `version` when it is older; waits for the task. A version
   * its host cannot run is a UserInputError (reason HardwareUpgradeFailed).
   */
  upgradeHardware(vm: ObservedVM, version: number): Promise<void>;
  /**
   * Moves the VM to the cluster of `zone` (RelocateVM_Task; live when it runs), onto a connected host there;
   * waits for the task. A zone not configured, or a move vSphere refuses, is a UserInputError.
   */
  relocateVM(vm: ObservedVM, zone: string): Promise<void>;
  /** Where the ISO file of a content library item is, as a CD-ROM's backing names it. Not an ISO: UserInputError. */
  isoPath(itemID: string): Promise<string>;
  /** The VM's CD-ROMs in device order (read now). */
  cdroms(vm: ObservedVM): Promise<CdromState[]>;
  /**
   * Gives the VM exactly these CD-ROMs, in order (one reconfigure; waits for it). A powered-on VM takes only
   * connection changes. No free slot for one: UserInputError.
   */
  setCdroms(vm: ObservedVM, cdroms: CdromState[]): Promise<void>;
}

/** A CD-ROM: the ISO it is backed by ("" for none), and its connection settings. */
export interface CdromState {
  isoPath: string;
  connected: boolean;
  allowGuestControl: boolean;
}
