// VirtualMachine in v1alpha5: v1alpha4 with the CD-ROMs moved under spec.hardware (beside the disk controllers),
// spec.class, spec.bootOptions, spec.policies, snapshots, vTPM, more per-volume placement and guest
// customization options, and status.class, status.guest, status.hardware back or new.
import { s, omit } from '../schema.js';
import { LocalObjectRef, SecretKeySelector } from '../v1alpha3/common.js';
import {
  CloudInitSpec as V3CloudInit,
  LinuxPrepSpec as V3LinuxPrep,
  SysprepAnswers as V3SysprepAnswers,
  SysprepSpec as V3Sysprep,
  BootstrapSpec as V3Bootstrap,
} from '../v1alpha3/bootstrap.js';
import {
  cdromList,
  CdromSpec as V3Cdrom,
  SpecCrypto,
  StatusCrypto,
  volumeSpecList,
  volumeStatusList,
  VolumeSpec as V3VolumeSpec,
} from '../v1alpha3/virtualmachine.js';
import {
  VirtualMachineSpec as V4Spec,
  VirtualMachineStatus as V4Status,
  VolumeStatus as V4VolumeStatus,
  StorageStatus as V4Storage,
  StorageUsage,
} from '../v1alpha4/virtualmachine.js';

const optBool = (description: string) => s.optional(s.boolean({ description }));
const controllerType = s.optional(
  s.enum(['IDE', 'NVME', 'SCSI', 'SATA'] as const, { description: 'Type of the controller the device is on.' }),
);
const busNumber = s.optional(s.int32({ description: 'Bus number of the controller the device is on.' }));
const unitNumber = s.optional(s.int32({ description: 'Unit number of the device on its controller.' }));
const diskMode = s.optional(
  s.enum(['IndependentNonPersistent', 'IndependentPersistent', 'NonPersistent', 'Persistent'] as const, {
    description: 'How the disk takes part in snapshots.',
  }),
);
const volumeSharing = s.optional(
  s.enum(['MultiWriter', 'None'] as const, { description: 'Whether other VMs may write to the disk.' }),
);
const scriptText = s.optional(
  s.object(
    {
      from: s.optional(SecretKeySelector),
      value: s.optional(s.string({ description: 'The script itself. Mutually exclusive with from.' })),
    },
    { description: 'A script run in the guest after customization.' },
  ),
);

export const CdromSpec = s.object({
  ...V3Cdrom.props,
  controllerBusNumber: busNumber,
  controllerType,
  unitNumber,
});

/** A list of disk controllers of one type: at most `max`, bus numbers 0 to max-1. */
const bus = (max: number, extra: Parameters<typeof s.object>[0] = {}) =>
  s.array(
    s.object({
      busNumber: s.int32({ minimum: 0, maximum: max - 1, description: 'Bus number of the controller.' }),
      ...extra,
    }),
    { listType: 'map', listMapKeys: ['busNumber'], maxItems: max },
  );

export const HardwareSpec = s.object(
  {
    cdrom: cdromList(CdromSpec),
    ideControllers: s.optional(bus(2)),
    nvmeControllers: s.optional(
      bus(4, {
        sharingMode: s.optional(
          s.enum(['None', 'Physical'] as const, { default: 'None', description: 'Bus sharing.' }),
        ),
      }),
    ),
    sataControllers: s.optional(bus(4)),
    scsiControllers: s.optional(
      bus(4, {
        sharingMode: s.optional(
          s.enum(['None', 'Physical', 'Virtual'] as const, { default: 'None', description: 'Bus sharing.' }),
        ),
        type: s.optional(
          s.enum(['ParaVirtual', 'BusLogic', 'LsiLogic', 'LsiLogicSAS'] as const, {
            default: 'ParaVirtual',
            description: 'SCSI type.',
          }),
        ),
      }),
    ),
  },
  { description: 'Virtual hardware beyond the class: CD-ROMs and disk controllers.' },
);

export const VolumeSpec = s.object(
  {
    ...V3VolumeSpec.props,
    removable: s.optional(
      s.boolean({ default: true, description: 'The volume may be removed from the VM while it runs.' }),
    ),
    applicationType: s.optional(
      s.enum(['OracleRAC', 'MicrosoftWSFC'] as const, { description: 'Application the volume is set up for.' }),
    ),
    controllerBusNumber: busNumber,
    controllerType,
    diskMode,
    sharingMode: volumeSharing,
    unitNumber,
  },
  V3VolumeSpec.oopts,
);

export const BootOptions = s.object(
  {
    firmware: s.optional(s.enum(['bios', 'efi'] as const, { description: 'Firmware the VM boots with.' })),
    bootDelay: s.optional(s.string({ description: 'Delay before the VM boots, e.g. 10s.' })),
    bootOrder: s.optional(
      s.array(
        s.object({
          type: s.enum(['Disk', 'Network', 'CDRom'] as const, { description: 'Type of the bootable device.' }),
          name: s.optional(s.string({ description: 'Name of the device (a volume, an interface, a CD-ROM).' })),
        }),
        { description: 'Devices to boot from, in order.' },
      ),
    ),
    bootRetry: s.optional(s.string({ default: 'Disabled', description: 'Retry a failed boot: Enabled or Disabled.' })),
    bootRetryDelay: s.optional(s.string({ description: 'Delay before a boot is retried.' })),
    efiSecureBoot: s.optional(
      s.enum(['Enabled', 'Disabled'] as const, { default: 'Disabled', description: 'EFI secure boot.' }),
    ),
    networkBootProtocol: s.optional(
      s.enum(['IP4', 'IP6'] as const, { default: 'IP4', description: 'PXE boot protocol.' }),
    ),
  },
  { description: 'How the VM boots.' },
);

export const CloudInitSpec = s.object(
  {
    ...V3CloudInit.props,
    waitOnNetwork4: optBool('The guest waits for an IP4 address before it reports customization done.'),
    waitOnNetwork6: optBool('The guest waits for an IP6 address before it reports customization done.'),
  },
  V3CloudInit.oopts,
);

export const LinuxPrepSpec = s.object(
  {
    ...V3LinuxPrep.props,
    expirePasswordAfterNextLogin: optBool('The root password expires at the first login.'),
    password: s.optional(
      s.object(
        {
          name: SecretKeySelector.props.name,
          key: s.optional(s.string({ default: 'password', description: 'Key within the Secret (password).' })),
        },
        { description: 'Secret key holding the root password.' },
      ),
    ),
    scriptText,
    customizeAtNextPowerOn: optBool('Customize the guest again at its next power-on.'),
  },
  V3LinuxPrep.oopts,
);

/** v1alpha5's answer file: a password that expires, a script, and names that may not be empty. */
export const SysprepAnswers = s.object(
  {
    ...V3SysprepAnswers.props,
    userData: s.object(
      {
        ...V3SysprepAnswers.props.userData.props,
        fullName: s.string({ description: 'The user’s full name.', minLength: 1 }),
        orgName: s.string({ description: 'The organization’s name.', minLength: 1 }),
      },
      V3SysprepAnswers.props.userData.oopts,
    ),
    expirePasswordAfterNextLogin: optBool('The Administrators’ passwords expire at the next log-on.'),
    scriptText,
  },
  V3SysprepAnswers.oopts,
);

export const SysprepSpec = s.object(
  {
    ...V3Sysprep.props,
    sysprep: s.optional(SysprepAnswers),
    customizeAtNextPowerOn: optBool('Customize the guest again at its next power-on.'),
  },
  V3Sysprep.oopts,
);

export const BootstrapSpec = s.object(
  {
    ...V3Bootstrap.props,
    cloudInit: s.optional(CloudInitSpec),
    linuxPrep: s.optional(LinuxPrepSpec),
    sysprep: s.optional(SysprepSpec),
  },
  V3Bootstrap.oopts,
);

export const VirtualMachineSpec = s.object(
  {
    ...omit(V4Spec.props, ['cdrom', 'volumes', 'bootstrap', 'crypto']),
    class: s.optional(
      s.object(LocalObjectRef.props, { description: 'A VirtualMachineClassInstance the VM is sized from.' }),
    ),
    crypto: s.optional(
      s.object(
        {
          ...SpecCrypto.props,
          vTPMMode: s.optional(
            s.enum(['Clone', 'New'] as const, {
              default: 'New',
              description: 'Whether a vTPM is cloned from the image or new.',
            }),
          ),
        },
        SpecCrypto.oopts,
      ),
    ),
    bootstrap: s.optional(BootstrapSpec),
    volumes: volumeSpecList(VolumeSpec),
    bootOptions: s.optional(BootOptions),
    currentSnapshotName: s.optional(s.string({ description: 'Name of the snapshot the VM reverts to.' })),
    hardware: s.optional(HardwareSpec),
    policies: s.optional(s.array(LocalObjectRef, { description: 'Compute policies applied to the VM.' })),
  },
  V4Spec.oopts,
);

export const VolumeStatus = s.object({
  ...V4VolumeStatus.props,
  controllerBusNumber: busNumber,
  controllerType,
  unitNumber,
  diskMode,
  sharingMode: volumeSharing,
});

const snapshotRef = s.object({
  type: s.enum(['Managed', 'Unmanaged'] as const, {
    default: 'Managed',
    description: 'Whether a VirtualMachineSnapshot stands for it.',
  }),
  name: s.string({ description: 'Name of the snapshot.' }),
});

const quantity = (description: string) => s.optional(s.quantity({ description }));

export const HardwareStatus = s.object(
  {
    controllers: s.optional(
      s.array(
        s.object({
          busNumber: s.int32(),
          type: s.enum(['IDE', 'NVME', 'SCSI', 'SATA'] as const),
          deviceKey: s.int32(),
          devices: s.optional(
            s.array(s.object({ type: s.enum(['CDROM', 'Disk'] as const), unitNumber: s.int32() }), {
              listType: 'map',
              listMapKeys: ['unitNumber'],
            }),
          ),
        }),
        { listType: 'map', listMapKeys: ['busNumber', 'type'] },
      ),
    ),
    cpu: s.optional(s.object({ total: s.optional(s.int32()), reservation: s.optional(s.int64()) })),
    memory: s.optional(s.object({ total: quantity('Memory size.'), reservation: quantity('Reserved memory.') })),
    vGPUs: s.optional(
      s.array(
        s.object({
          type: s.optional(s.string()),
          profile: s.optional(s.string()),
          migrationType: s.optional(s.string()),
        }),
      ),
    ),
  },
  { description: 'Observed virtual hardware.' },
);

export const VirtualMachineStatus = s.object(
  {
    ...omit(V4Status.props, ['volumes', 'storage', 'crypto']),
    class: s.optional(
      s.object(LocalObjectRef.props, { description: 'The VirtualMachineClass the VM was built from.' }),
    ),
    crypto: s.optional(s.object({ ...StatusCrypto.props, hasVTPM: optBool('The VM has a vTPM.') })),
    volumes: volumeStatusList(VolumeStatus),
    storage: s.optional(
      s.object(
        {
          ...V4Storage.props,
          usage: s.optional(
            s.object({
              ...StorageUsage.props,
              snapshots: s.optional(
                s.object({
                  vm: quantity('Storage the VM’s snapshots use.'),
                  volume: quantity('Storage its volumes’ snapshots use.'),
                }),
              ),
            }),
          ),
        },
        V4Storage.oopts,
      ),
    ),
    provider: s.optional(
      s.object(
        { creationTimestamp: s.optional(s.string({ format: 'date-time' })) },
        { description: 'vSphere’s view.' },
      ),
    ),
    currentSnapshot: s.optional(snapshotRef),
    rootSnapshots: s.optional(s.array(snapshotRef)),
    guest: s.optional(
      s.object(
        { guestID: s.optional(s.string()), guestFullName: s.optional(s.string()) },
        { description: 'Guest OS as VM Tools report it.' },
      ),
    ),
    hardware: s.optional(HardwareStatus),
    policies: s.optional(
      s.array(s.object({ ...LocalObjectRef.props, generation: s.int64() }), {
        description: 'Compute policies applied to the VM.',
      }),
    ),
  },
  V4Status.oopts,
);
