// The VirtualMachine as the VM controller and its helpers read and write it: the API schema's own types
// (src/api/v1alpha3), so the controller cannot drift from what the webhooks and the CRD accept.
import type { ObjectMeta } from '../../api/v1alpha6/common.js';
import type { VirtualMachine, VirtualMachineSpec, VirtualMachineStatus } from '../../api/v1alpha6/virtualmachine.js';
import type { KubeObject } from '../../runtime/kube-client.js';

export type VMStatus = VirtualMachineStatus;
export type NetworkSpec = NonNullable<VirtualMachineSpec['network']>;
export type InterfaceSpec = NonNullable<NetworkSpec['interfaces']>[number];
export type VolumeSpec = NonNullable<VirtualMachineSpec['volumes']>[number];
export type CloudConfigSpec = NonNullable<
  NonNullable<NonNullable<VirtualMachineSpec['bootstrap']>['cloudInit']>['cloudConfig']
>;
export type VolumeStatus = NonNullable<VirtualMachineStatus['volumes']>[number];
export type NetworkStatus = NonNullable<VirtualMachineStatus['network']>;

/** The VirtualMachine as stored: the schema's own types, with what every stored object carries. */
export type VM = KubeObject &
  Omit<VirtualMachine, 'apiVersion' | 'kind' | 'metadata'> & { metadata: KubeObject['metadata'] & ObjectMeta };
