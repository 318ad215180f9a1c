// VirtualMachine in v1alpha4: v1alpha3 with spec.promoteDisksMode, status.nodeName in place of status.host, no
// status.class, and requested sizes in the storage and volume status. Everything else is v1alpha3's.
import { s, omit } from '../schema.js';
import {
  volumeStatusList,
  VirtualMachineSpec as V3Spec,
  VirtualMachineStatus as V3Status,
  VolumeStatus as V3VolumeStatus,
} from '../v1alpha3/virtualmachine.js';

export const VirtualMachineSpec = s.object(
  {
    ...V3Spec.props,
    promoteDisksMode: s.optional(
      s.enum(['Online', 'Offline', 'Disabled'] as const, {
        default: 'Online',
        description: 'When a VM deployed as a linked clone has its child disks promoted to full clones.',
      }),
    ),
  },
  V3Spec.oopts,
);

export const VolumeStatus = s.object({
  ...V3VolumeStatus.props,
  requested: s.optional(s.quantity({ description: 'Size the volume asks for.' })),
});

export const StorageUsage = s.object({
  disks: s.optional(s.quantity({ description: 'Storage its disks use.' })),
  other: s.optional(s.quantity({ description: 'Storage its other files (swap, logs, snapshots) use.' })),
});

export const StorageStatus = s.object(
  {
    total: s.optional(s.quantity({ description: 'Total storage the VM may use: its disks and its other files.' })),
    requested: s.optional(s.object({ disks: s.optional(s.quantity({ description: 'Storage its disks ask for.' })) })),
    usage: s.optional(StorageUsage),
  },
  { description: 'Storage the VM asks for and uses.' },
);

export const VirtualMachineStatus = s.object(
  {
    ...omit(V3Status.props, ['class', 'host', 'volumes', 'storage']),
    nodeName: s.optional(s.string({ description: 'ESXi host the VM runs on.' })),
    volumes: volumeStatusList(VolumeStatus),
    storage: s.optional(StorageStatus),
  },
  V3Status.oopts,
);
