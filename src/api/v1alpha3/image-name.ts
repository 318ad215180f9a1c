// The name of the VirtualMachineImage / ClusterVirtualMachineImage that mirrors a content library item:
// "vmi-" and 17 hex digits of the SHA-1 of the item's ID, so one item has one name in every cluster.
import { createHash } from 'node:crypto';

export function imageResourceName(libraryItemID: string): string {
  return `vmi-${createHash('sha1').update(libraryItemID).digest('hex').slice(0, 17)}`;
}
