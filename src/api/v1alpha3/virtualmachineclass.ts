// The VirtualMachineClass kind: the virtual hardware and resource policies VMs are built with.
import { type Infer, s } from '../schema.js';
import type { ObjectMeta } from './common.js';

const resourceSpec = s.object({
  cpu: s.optional(s.quantity({ description: 'CPU, in vCPUs or MHz as the context says.' })),
  memory: s.optional(s.quantity({ description: 'Memory.' })),
});

export const VirtualMachineClassSpec = s.object(
  {
    controllerName: s.optional(
      s.string({
        description: 'Controller that reconciles VMs of this class; vmoperator.vmware.com/vsphere by default.',
      }),
    ),
    hardware: s.optional(
      s.object(
        {
          cpus: s.optional(s.int64({ description: 'Number of virtual CPUs.' })),
          memory: s.optional(s.quantity({ description: 'Memory size, e.g. 4Gi.' })),
          devices: s.optional(
            s.object({
              vgpuDevices: s.optional(
                s.array(s.object({ profileName: s.string() }), { listType: 'map', listMapKeys: ['profileName'] }),
              ),
              dynamicDirectPathIODevices: s.optional(
                s.array(s.object({ vendorID: s.int64(), deviceID: s.int64(), customLabel: s.optional(s.string()) })),
              ),
            }),
          ),
          instanceStorage: s.optional(
            s.object({
              storageClass: s.optional(s.string()),
              volumes: s.optional(s.array(s.object({ size: s.quantity() }))),
            }),
          ),
        },
        { description: 'Virtual hardware of VMs of this class.' },
      ),
    ),
    policies: s.optional(
      s.object(
        {
          resources: s.optional(s.object({ requests: s.optional(resourceSpec), limits: s.optional(resourceSpec) })),
        },
        { description: 'Resource reservations (requests) and limits.' },
      ),
    ),
    description: s.optional(s.string({ description: 'Free text about the class.' })),
    reservedProfileID: s.optional(s.string({ description: 'Reservation profile of the namespace’s class.' })),
    reservedSlots: s.optional(
      s.int32({ minimum: 0, description: 'Slots reserved for VMs of the class (with reservedProfileID).' }),
    ),
    configSpec: s.optional(
      s.freeObject({
        description:
          'A vSphere VirtualMachineConfigSpec as JSON, each data object tagged with "_typeName". cpuAllocation ' +
          'is in MHz and memoryAllocation in MB; deviceChange NICs set the VM’s adapter types in order.',
      }),
    ),
  },
  { description: 'Desired state of the VirtualMachineClass.' },
);

export type VirtualMachineClassSpec = Infer<typeof VirtualMachineClassSpec>;

export interface VirtualMachineClass {
  apiVersion: string;
  kind: 'VirtualMachineClass';
  metadata: ObjectMeta;
  spec?: VirtualMachineClassSpec;
  status?: Record<string, unknown>;
}
