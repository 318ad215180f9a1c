// VirtualMachineImage (namespaced) and ClusterVirtualMachineImage (cluster-wide): VM images mirrored from
// vSphere content libraries. Both kinds share one spec and status.
import { type Infer, s } from '../schema.js';
import { Conditions, KeyValuePair, LocalObjectRef, type ObjectMeta } from './common.js';

export const VirtualMachineImageSpec = s.object(
  {
    providerRef: s.optional(
      s.object(LocalObjectRef.props, { description: 'The object this image’s information comes from.' }),
    ),
  },
  { description: 'Desired state of the image.' },
);

export const VirtualMachineImageStatus = s.object(
  {
    name: s.optional(s.string({ description: 'Display name of the image.' })),
    capabilities: s.optional(
      s.array(s.string(), { description: 'Capabilities of the image, e.g. cloud-init.', listType: 'set' }),
    ),
    firmware: s.optional(s.string({ description: 'Firmware: BIOS or EFI.' })),
    hardwareVersion: s.optional(s.int32({ description: 'Virtual hardware version of the image.' })),
    osInfo: s.optional(
      s.object(
        {
          id: s.optional(s.string({ description: 'Operating system ID.' })),
          type: s.optional(s.string({ description: 'Operating system type, e.g. a guest ID.' })),
          version: s.optional(s.string({ description: 'Operating system version.' })),
        },
        { description: 'Guest operating system of the image.' },
      ),
    ),
    ovfProperties: s.optional(
      s.array(
        s.object({
          key: s.string({ description: 'Property key.' }),
          type: s.string({ description: 'Property type.' }),
          default: s.optional(s.string({ description: 'Default value.' })),
        }),
        { description: 'User-configurable OVF properties.' },
      ),
    ),
    vmwareSystemProperties: s.optional(s.array(KeyValuePair, { description: 'VMware system properties.' })),
    productInfo: s.optional(
      s.object(
        {
          product: s.optional(s.string()),
          vendor: s.optional(s.string()),
          version: s.optional(s.string({ description: 'Short version of the image.' })),
          fullVersion: s.optional(s.string({ description: 'Long version of the image.' })),
        },
        { description: 'Product information of the image.' },
      ),
    ),
    disks: s.optional(
      s.array(
        s.object({
          capacity: s.optional(s.quantity({ description: 'Virtual disk capacity.' })),
          size: s.optional(s.quantity({ description: 'Estimated populated size.' })),
        }),
        { description: 'The image’s disks.' },
      ),
    ),
    providerContentVersion: s.optional(s.string({ description: 'Content version of the library item.' })),
    providerItemID: s.optional(s.string({ description: 'ID of the content library item.' })),
    conditions: s.optional(Conditions),
    type: s.optional(s.string({ description: 'Item type: OVF or ISO.' })),
  },
  { description: 'Observed state of the image.' },
);

export type VirtualMachineImageSpec = Infer<typeof VirtualMachineImageSpec>;
export type VirtualMachineImageStatus = Infer<typeof VirtualMachineImageStatus>;

export interface VirtualMachineImage {
  apiVersion: string;
  kind: 'VirtualMachineImage' | 'ClusterVirtualMachineImage';
  metadata: ObjectMeta;
  spec?: VirtualMachineImageSpec;
  status?: VirtualMachineImageStatus;
}
