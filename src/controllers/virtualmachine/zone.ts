// Zone placement for a VM without the zone label: the configured zone that holds the fewest VMs (by their
// labels in the cache), ties broken by name, so creates spread evenly across zones.
import { ZONE_LABEL } from '../../api/v1alpha3/virtualmachine.js';
import type { KubeObject } from '../../runtime/kube-client.js';

export function chooseZone(
  zones: string[],
  vms: KubeObject[],
  pending: ReadonlyMap<string, number> = new Map(),
): string | undefined {
  if (zones.length === 0) return undefined;
  const count = new Map(zones.map((z) => [z, pending.get(z) ?? 0]));
  for (const vm of vms) {
    const z = (vm.metadata.labels as Record<string, string> | undefined)?.[ZONE_LABEL];
    if (z && count.has(z)) count.set(z, count.get(z)! + 1);
  }
  return [...count.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0]![0];
}
