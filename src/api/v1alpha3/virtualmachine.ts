// The VirtualMachine kind: spec (what the user asks for) and status (what the operator observed).
import { type Infer, type Schema, s } from '../schema.js';
import { Conditions, LocalObjectRef, type KindObject } from './common.js';
import { BootstrapSpec } from './bootstrap.js';
import { NetworkSpec, NetworkStatus } from './network.js';

export const POWER_STATES = ['PoweredOff', 'PoweredOn', 'Suspended'] as const;
export type PowerState = (typeof POWER_STATES)[number];
export const POWER_OP_MODES = ['Hard', 'Soft', 'TrySoft'] as const;
export type PowerOpMode = (typeof POWER_OP_MODES)[number];

/** Label that pins a VM to an availability zone. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** Holds a VirtualMachine until the operator has removed its VM from vSphere. */
export const VM_FINALIZER = 'vmoperator.vmware.com/virtualmachine';

const powerOpMode = (what: string) =>
  s.optional(
    s.enum(POWER_OP_MODES, {
      default: 'TrySoft',
      description:
        `How the VM is ${what}: Hard (no guest involvement), Soft (through VM Tools in the guest) or TrySoft ` +
        '(Soft, then Hard when VM Tools are missing, the soft operation fails or the state is not reached ' +
        'within five minutes). Defaults to TrySoft.',
    }),
  );

export const ImageRef = s.object({
  kind: s.string({ description: 'VirtualMachineImage or ClusterVirtualMachineImage.' }),
  name: s.string({ description: 'Name of the image object.' }),
});

export const VolumeSpec = s.object(
  {
    name: s.string({ description: 'Name of the volume: a DNS label, unique within the VM.' }),
    persistentVolumeClaim: s.optional(
      s.object(
        {
          claimName: s.string({ description: 'Name of a PersistentVolumeClaim in the VM’s namespace.' }),
          readOnly: s.optional(s.boolean({ description: 'Attach read-only.' })),
          instanceVolumeClaim: s.optional(
            s.object(
              {
                storageClass: s.string({ description: 'StorageClass that backs the instance storage volume.' }),
                size: s.quantity({ description: 'Size of the instance storage volume.' }),
              },
              { description: 'Set when the claim is backed by instance storage.' },
            ),
          ),
        },
        { description: 'A PersistentVolumeClaim in the VM’s namespace, attached as a disk.' },
      ),
    ),
  },
  { description: 'A named volume attached to the VM.' },
);

export const VolumeStatus = s.object({
  name: s.string({ description: 'Name of the volume.' }),
  type: s.enum(['Classic', 'Managed'] as const, {
    default: 'Managed',
    description: 'Classic (a disk of the image) or Managed (a persistent volume).',
  }),
  crypto: s.optional(s.object({ providerID: s.optional(s.string()), keyID: s.optional(s.string()) })),
  limit: s.optional(s.quantity({ description: 'Storage limit of the volume.' })),
  used: s.optional(s.quantity({ description: 'Space the volume uses on disk, not shared with others.' })),
  attached: s.optional(s.boolean({ description: 'The volume is attached to the VM.' })),
  diskUUID: s.optional(s.string({ description: 'UUID of the virtual disk, once attached.' })),
  error: s.optional(s.string({ description: 'Last attach or detach error; empty once attached.' })),
});

/** spec.volumes of any version, keyed by name. */
export const volumeSpecList = <T>(item: Schema<T>) =>
  s.optional(s.array(item, { description: 'Volumes attached to the VM.', listType: 'map', listMapKeys: ['name'] }));

/** status.volumes of any version, keyed by name and type. */
export const volumeStatusList = <T>(item: Schema<T>) =>
  s.optional(
    s.array(item, {
      description: 'Observed state of the VM’s volumes.',
      listType: 'map',
      listMapKeys: ['name', 'type'],
    }),
  );

/** The CD-ROMs of any version (spec.cdrom, later spec.hardware.cdrom), keyed by name. */
export const cdromList = <T>(item: Schema<T>) =>
  s.optional(
    s.array(item, { description: 'CD-ROM devices backed by ISO images.', listType: 'map', listMapKeys: ['name'] }),
  );

export const ReadinessProbeSpec = s.object(
  {
    tcpSocket: s.optional(
      s.object(
        {
          port: s.intOrString({ description: 'Port number (1-65535) or IANA service name.' }),
          host: s.optional(s.string({ description: 'Host to connect to; the VM’s IP when omitted.' })),
        },
        { description: 'Ready when a TCP connection opens. Deprecated.' },
      ),
    ),
    guestHeartbeat: s.optional(
      s.object(
        {
          thresholdStatus: s.optional(
            s.enum(['yellow', 'green'] as const, {
              default: 'green',
              description: 'Lowest heartbeat status that counts as ready.',
            }),
          ),
        },
        { description: 'Ready when the guest heartbeat reaches a status.' },
      ),
    ),
    guestInfo: s.optional(
      s.array(
        s.object({
          key: s.string({ description: 'GuestInfo key, without the "guestinfo." prefix.' }),
          value: s.optional(s.string({ description: 'RE2 regular expression the value must match; any if empty.' })),
        }),
        { description: 'Ready when every GuestInfo key matches its expression.' },
      ),
    ),
    timeoutSeconds: s.optional(s.int32({ minimum: 1, maximum: 60, description: 'Probe timeout; defaults to 10.' })),
    periodSeconds: s.optional(s.int32({ minimum: 1, description: 'Seconds between probes; defaults to 10.' })),
  },
  { description: 'How to tell that the VM is ready; the actions are mutually exclusive.' },
);

export const SpecCrypto = s.object(
  {
    encryptionClassName: s.optional(s.string({ description: 'EncryptionClass used to encrypt the VM.' })),
    useDefaultKeyProvider: s.optional(
      s.boolean({ default: true, description: 'Use the default key provider when no class is given.' }),
    ),
  },
  { description: 'Desired encryption of the VM.' },
);

export const StatusCrypto = s.object({
  encrypted: s.optional(s.array(s.string({ description: 'Config or Disks.' }))),
  providerID: s.optional(s.string()),
  keyID: s.optional(s.string()),
});

export const AdvancedSpec = s.object(
  {
    bootDiskCapacity: s.optional(s.quantity({ description: 'Capacity of the boot disk.' })),
    defaultVolumeProvisioningMode: s.optional(
      s.enum(['Thin', 'Thick', 'ThickEagerZero'] as const, {
        description: 'Default provisioning mode of the VM’s volumes.',
      }),
    ),
    changeBlockTracking: s.optional(s.boolean({ description: 'Enable changed block tracking for backups.' })),
  },
  { description: 'Advanced options.' },
);

export const CdromSpec = s.object({
  name: s.string({ pattern: '^[a-z0-9]{2,}$', description: 'Unique name of the CD-ROM device.' }),
  image: ImageRef,
  connected: s.optional(s.boolean({ default: true, description: 'The device is connected.' })),
  allowGuestControl: s.optional(
    s.boolean({ default: true, description: 'A web console may connect or disconnect it.' }),
  ),
});

const affinityTerms = (description: string) =>
  s.optional(
    s.array(
      s.object({
        labelSelector: s.optional(
          s.object({
            matchLabels: s.optional(s.map(s.string())),
            matchExpressions: s.optional(
              s.array(
                s.object({
                  key: s.string(),
                  operator: s.string({ description: 'In, NotIn, Exists or DoesNotExist.' }),
                  values: s.optional(s.array(s.string(), { listType: 'atomic' })),
                }),
                { listType: 'atomic' },
              ),
            ),
          }),
        ),
        topologyKey: s.string({ description: 'Label key of the topology domain, e.g. topology.kubernetes.io/zone.' }),
      }),
      { description, listType: 'atomic' },
    ),
  );

const vmAffinity = (what: string) =>
  s.optional(
    s.object(
      {
        requiredDuringSchedulingPreferredDuringExecution: affinityTerms(`VMs this VM must be placed ${what}.`),
        preferredDuringSchedulingPreferredDuringExecution: affinityTerms(`VMs this VM should be placed ${what}.`),
      },
      { description: `Placement ${what} other VMs.` },
    ),
  );

export const AffinitySpec = s.object(
  { vmAffinity: vmAffinity('with'), vmAntiAffinity: vmAffinity('apart from') },
  { description: 'Placement rules relative to other VMs.' },
);

export const VirtualMachineSpec = s.object(
  {
    affinity: s.optional(AffinitySpec),
    groupName: s.optional(s.string({ description: 'Name of the VirtualMachineGroup the VM belongs to.' })),
    cdrom: cdromList(CdromSpec),
    image: s.optional(
      s.object(ImageRef.props, {
        description: 'Reference to the image the VM is deployed from; must agree with imageName.',
      }),
    ),
    imageName: s.optional(
      s.string({
        description:
          'Name of the VirtualMachineImage (looked up first in the VM’s namespace) or ClusterVirtualMachineImage ' +
          'that supplies the VM’s disks, or an image display name that resolves to exactly one image. Immutable.',
      }),
    ),
    className: s.optional(
      s.string({ description: 'Name of the VirtualMachineClass that sizes the VM’s virtual hardware. Immutable.' }),
    ),
    crypto: s.optional(SpecCrypto),
    storageClass: s.optional(
      s.string({ description: 'Name of the StorageClass whose storage policy places the VM’s disks.' }),
    ),
    bootstrap: s.optional(BootstrapSpec),
    network: s.optional(NetworkSpec),
    powerState: s.optional(
      s.enum(POWER_STATES, {
        description:
          'Desired power state: PoweredOn, PoweredOff or Suspended. Defaults to PoweredOn on create, where ' +
          'Suspended is not allowed; once set it cannot be emptied.',
      }),
    ),
    powerOffMode: powerOpMode('powered off'),
    suspendMode: powerOpMode('suspended'),
    nextRestartTime: s.optional(
      s.string({
        description:
          'Set to "now" (any case) to restart the VM per restartMode; a webhook turns it into the current time. ' +
          'Future restarts cannot be scheduled.',
      }),
    ),
    restartMode: powerOpMode('restarted'),
    volumes: volumeSpecList(VolumeSpec),
    readinessProbe: s.optional(ReadinessProbeSpec),
    advanced: s.optional(AdvancedSpec),
    reserved: s.optional(
      s.object(
        { resourcePolicyName: s.optional(s.string({ description: 'VirtualMachineSetResourcePolicy name.' })) },
        { description: 'Options reserved for the system; users may not change them.' },
      ),
    ),
    minHardwareVersion: s.optional(
      s.int32({ minimum: 13, description: 'Lowest virtual hardware version the VM is upgraded to.' }),
    ),
    instanceUUID: s.optional(
      s.string({
        format: 'uuid',
        description:
          'vSphere instance UUID (config.instanceUuid); random when omitted. Only privileged accounts may set ' +
          'it, on create only.',
      }),
    ),
    biosUUID: s.optional(
      s.string({
        format: 'uuid',
        description:
          'BIOS UUID (config.uuid); random when omitted, and the default Cloud-Init instance ID. Only privileged ' +
          'accounts may set it, on create only.',
      }),
    ),
    guestID: s.optional(
      s.string({
        description:
          'Guest OS identifier, e.g. ubuntu64Guest (see `govc vm.option.info`); from the image when omitted. ' +
          'Cannot change while powered on.',
      }),
    ),
  },
  { description: 'Desired state of the VirtualMachine.' },
);

export const VirtualMachineStatus = s.object(
  {
    class: s.optional(
      s.object(LocalObjectRef.props, { description: 'The VirtualMachineClass the VM was built from.' }),
    ),
    host: s.optional(s.string({ description: 'ESXi host the VM runs on.' })),
    powerState: s.optional(s.enum(POWER_STATES, { description: 'Observed power state.' })),
    conditions: s.optional(Conditions),
    crypto: s.optional(StatusCrypto),
    network: s.optional(NetworkStatus),
    uniqueID: s.optional(s.string({ description: 'Identifier in vSphere (the managed object ID).' })),
    biosUUID: s.optional(s.string({ description: 'Observed BIOS UUID.' })),
    instanceUUID: s.optional(s.string({ description: 'Observed instance UUID.' })),
    volumes: volumeStatusList(VolumeStatus),
    changeBlockTracking: s.optional(s.boolean()),
    zone: s.optional(s.string({ description: 'Availability zone the VM was placed in.' })),
    lastRestartTime: s.optional(s.string({ format: 'date-time', description: 'When the operator last restarted it.' })),
    hardwareVersion: s.optional(s.int32({ description: 'Observed virtual hardware version.' })),
    storage: s.optional(
      s.object(
        {
          usage: s.optional(
            s.object({
              total: s.optional(s.quantity({ description: 'Total storage the VM may use.' })),
              disks: s.optional(s.quantity({ description: 'Storage its disks use.' })),
              other: s.optional(s.quantity({ description: 'Storage its other files (swap, logs, snapshots) use.' })),
            }),
          ),
        },
        { description: 'Storage the VM uses.' },
      ),
    ),
  },
  { description: 'Observed state of the VirtualMachine.' },
);

export type VirtualMachineSpec = Infer<typeof VirtualMachineSpec>;
export type VirtualMachineStatus = Infer<typeof VirtualMachineStatus>;

export type VirtualMachine = KindObject<'VirtualMachine', VirtualMachineSpec, VirtualMachineStatus>;
