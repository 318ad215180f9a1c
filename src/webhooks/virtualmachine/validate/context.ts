// What every VirtualMachine validation rule gets: the object (schema-checked), the previous object on
// update, and whether the requester is privileged.
import type { VirtualMachine } from '../../../api/v1alpha6/virtualmachine.js';

export interface VMValidationContext {
  operation: 'CREATE' | 'UPDATE';
  vm: VirtualMachine;
  old?: VirtualMachine;
  privileged: boolean;
}

/** The observed power state, or (before the controller reported one) the previous desired state. */
export function observedPowerState(vm: VirtualMachine | undefined): string | undefined {
  return vm?.status?.powerState ?? vm?.spec?.powerState;
}

/** Deployed: the VM exists in vSphere (the controller recorded its ID or a VirtualMachineCreated=True condition). */
export function isDeployed(vm: VirtualMachine | undefined): boolean {
  if (!vm?.status) return false;
  if (vm.status.uniqueID) return true;
  return vm.status.conditions?.some((c) => c.type === 'VirtualMachineCreated' && c.status === 'True') ?? false;
}
