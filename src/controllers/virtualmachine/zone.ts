// Zone placement for a VM without the zone label: the configured zone that holds the fewest VMs, ties broken
// by name, so creates spread evenly across zones. Only VMs that exist in vSphere count (their observed zone,
// else their label): a label alone costs nothing, so objects that never deploy must not steer placement.
import { ZONE_LABEL } from '../../api/v1alpha6/virtualmachine.js';
import type { KubeObject } from '../../runtime/kube-client.js';

export function chooseZone(
  zones: string[],
  vms: KubeObject[],
  pending: ReadonlyMap<string, number> = new Map(),
): string | undefined {
  if (zones.length === 0) return undefined;
  const count = new Map(zones.map((z) => [z, pending.get(z) ?? 0]));
  for (const vm of vms) {
    const status = vm.status as { uniqueID?: string; zone?: string } | undefined;
    if (!status?.uniqueID) continue;
    const z = status.zone ?? (vm.metadata.labels as Record<string, string> | undefined)?.[ZONE_LABEL];
    if (z && count.has(z)) count.set(z, count.get(z)! + 1);
  }
  return [...count.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0]![0];
}
