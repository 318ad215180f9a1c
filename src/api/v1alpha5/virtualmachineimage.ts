// VirtualMachineImage and ClusterVirtualMachineImage in v1alpha5 and later: each disk of status.disks says its
// name, limit (v1alpha3's capacity), requested size (v1alpha3's size) and place on a controller.
import { s, omit } from '../schema.js';
import { VirtualMachineImageStatus as V3Status } from '../v1alpha3/virtualmachineimage.js';

export const VirtualMachineImageStatus = s.object(
  {
    ...omit(V3Status.props, ['disks']),
    disks: s.optional(
      s.array(
        s.object({
          name: s.string({ description: 'Name of the disk (its device label, made unique).' }),
          limit: s.optional(s.quantity({ description: 'Capacity of the disk.' })),
          requested: s.optional(s.quantity({ description: 'Space the disk asks for.' })),
          controllerType: s.optional(s.enum(['IDE', 'NVME', 'SCSI', 'SATA'] as const)),
          controllerBusNumber: s.optional(s.int32()),
          unitNumber: s.optional(s.int32()),
        }),
        { description: 'The image’s disks.', listType: 'map', listMapKeys: ['name'] },
      ),
    ),
  },
  V3Status.oopts,
);
