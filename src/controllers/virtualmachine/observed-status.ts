// The status a reconcile reports of a created VM, from what vSphere shows and what the reconcile did: the
// observed fields (IDs, power state, host, zone, network), the guest customization condition as VM Tools
// report it, and the Ready condition with the reason it is not there yet. Pure, apart from guest NICs read
// from the provider only when the guest's address changed.
import type { ObservedVM, VMProvider } from '../../providers/interface.js';
import { conditionFalse, conditionTrue, type ConditionUpdate } from '../../runtime/status.js';
import { classRef } from './create.js';
import { CONDITIONS } from './dependencies.js';
import { guestInterfaces } from './guest-network.js';
import { deployedNetwork, type NetworkConfig } from './network-config.js';
import type { PowerOutcome } from './power-actions.js';
import type { NetworkStatus, VM, VMStatus } from './types.js';

/** Guest OS customization (LinuxPrep, Sysprep) as the guest reports it, as VM Operator names the condition. */
export const GUEST_CUSTOMIZATION = 'GuestCustomization';
const CUSTOMIZATION_REASONS: Record<string, { status: 'True' | 'False'; reason: string }> = {
  TOOLSDEPLOYPKG_PENDING: { status: 'False', reason: 'GuestCustomizationPending' },
  TOOLSDEPLOYPKG_RUNNING: { status: 'False', reason: 'GuestCustomizationRunning' },
  TOOLSDEPLOYPKG_SUCCEEDED: { status: 'True', reason: 'True' },
  TOOLSDEPLOYPKG_FAILED: { status: 'False', reason: 'GuestCustomizationFailed' },
};

/** The GuestCustomization condition for a LinuxPrep or Sysprep VM, once the guest reports anything. */
export function customizationCondition(vm: VM, reported: ObservedVM['customization']): ConditionUpdate | undefined {
  const customizing = vm.spec?.bootstrap?.linuxPrep || vm.spec?.bootstrap?.sysprep;
  const mapped = customizing && reported ? CUSTOMIZATION_REASONS[reported.status] : undefined;
  if (!reported || !mapped) return undefined;
  return { type: GUEST_CUSTOMIZATION, status: mapped.status, reason: mapped.reason, message: reported.error ?? '' };
}

/** The observed status fields of a created VM. */
export async function observedFields(
  provider: VMProvider,
  vm: VM,
  powered: ObservedVM,
  className: string | undefined,
  networkConfig: NetworkConfig,
): Promise<VMStatus> {
  return {
    uniqueID: powered.id,
    instanceUUID: powered.instanceUUID,
    biosUUID: powered.biosUUID,
    powerState: powered.powerState,
    ...(powered.host ? { nodeName: powered.host } : {}),
    ...(powered.zone ? { zone: powered.zone } : {}),
    ...(powered.hardwareVersion ? { hardwareVersion: powered.hardwareVersion } : {}),
    ...(className ? { class: classRef(className) } : {}),
    network: {
      ...(vm.status?.network ?? {}),
      ...(await observedInterfaces(provider, vm, powered)),
      config: networkConfig,
      // Observed: the guest's primary address as VM Tools report it, by family.
      primaryIP4: powered.guestIP && !powered.guestIP.includes(':') ? powered.guestIP : undefined,
      primaryIP6: powered.guestIP?.includes(':') ? powered.guestIP : undefined,
    },
  };
}

/** Ready: the VM is in the power state asked for; else why not yet. */
export function readyCondition(vm: VM, power: PowerOutcome, volumesPending: string[]): ConditionUpdate {
  const desired = vm.spec?.powerState ?? 'PoweredOn';
  const state = power.observed.powerState;
  if (state === desired) return conditionTrue(CONDITIONS.ready);
  const [reason, message] =
    power.bootstrap?.status === 'False'
      ? ['BootstrapPending', `the VM is powered on once its bootstrap data is there: ${power.bootstrap.message}`]
      : power.waitingForVolumes
        ? ['VolumesPending', `the VM is powered on once its volumes are attached: ${volumesPending.join('; ')}`]
        : ['PowerStatePending', `the VM is ${state}; it is being made ${desired}`];
  return conditionFalse(CONDITIONS.ready, reason, message);
}

/**
 * status.network.interfaces from the guest's adapters, read from vSphere only when the guest's primary
 * address differs from the one in status (so idle VMs cost no call).
 */
async function observedInterfaces(
  provider: VMProvider,
  vm: VM,
  observed: ObservedVM,
): Promise<Pick<NetworkStatus, 'interfaces'>> {
  if (!observed.guestIP) return {};
  const status = vm.status?.network;
  if (status?.interfaces && (status.primaryIP4 === observed.guestIP || status.primaryIP6 === observed.guestIP))
    return {};
  // The one cast left of the VM's status: guestInterfaces builds the schema's shape from the provider's
  // GuestNICs without typing the address origin and state as the schema's enums.
  const interfaces = guestInterfaces(deployedNetwork(vm), await provider.guestNICs(observed));
  return { interfaces: interfaces as NetworkStatus['interfaces'] };
}
