// VirtualMachine in v1alpha6, the hub and storage version: v1alpha5 with per-interface NIC options and VLANs,
// CPU, memory and NUMA tuning, extra config, a volume attributes class and bootstrap.disabled. Webhooks and
// controllers work on this type; the other versions convert to and from it (api/conversion).
import { type Infer, s, omit } from '../schema.js';
import { KeyValuePair, type KindObject } from '../v1alpha3/common.js';
import {
  interfaceList,
  NetworkInterfaceSpec as V3Interface,
  NetworkInterfaceStatus as V3InterfaceStatus,
  NetworkSpec as V3Network,
  NetworkStatus as V3NetworkStatus,
} from '../v1alpha3/network.js';
import { AdvancedSpec } from '../v1alpha3/virtualmachine.js';
import {
  HardwareStatus,
  BootstrapSpec as V5Bootstrap,
  VirtualMachineSpec as V5Spec,
  VirtualMachineStatus as V5Status,
} from '../v1alpha5/virtualmachine.js';

export {
  POWER_STATES,
  POWER_OP_MODES,
  ZONE_LABEL,
  VM_FINALIZER,
  type PowerState,
  type PowerOpMode,
} from '../v1alpha3/virtualmachine.js';

const optBool = (description: string) => s.optional(s.boolean({ description }));
const quantity = (description: string) => s.optional(s.quantity({ description }));
const pairs = (description: string) =>
  s.optional(s.array(KeyValuePair, { description, listType: 'map', listMapKeys: ['key'] }));

export const NetworkInterfaceSpec = s.object(
  {
    ...V3Interface.props,
    type: s.optional(
      s.enum(['VMXNet3', 'SRIOV', 'E1000', 'E1000e', 'VMXNet2', 'PCNet32'] as const, {
        description: 'Type of the virtual NIC; from the class or the network when omitted.',
      }),
    ),
    vnumaNodeID: s.optional(s.int32({ minimum: 0, description: 'vNUMA node the NIC is placed on.' })),
    vmxnet3: s.optional(
      s.object(
        {
          uptv2Enabled: optBool('Uniform passthrough (UPTv2).'),
          ctxPerDev: s.optional(s.string({ description: 'Transmit context threading mode.', maxLength: 50 })),
          rssOffloadEnabled: optBool('RSS offload.'),
          udpRssEnabled: optBool('UDP RSS.'),
          pnicFeatures: s.optional(
            s.array(s.string({ maxLength: 50 }), {
              description: 'Physical NIC queue features.',
              listType: 'set',
              maxItems: 16,
            }),
          ),
          coalescingScheme: s.optional(s.string({ description: 'Interrupt coalescing scheme.' })),
          coalescingParams: s.optional(s.string({ description: 'Interrupt coalescing parameters.' })),
        },
        { description: 'Options of a VMXNet3 NIC.' },
      ),
    ),
    advancedProperties: pairs('Advanced properties of the NIC.'),
    ipamModes: s.optional(
      s.array(s.string(), {
        description: 'IP families the network allocates addresses for.',
        listType: 'set',
        maxItems: 2,
      }),
    ),
  },
  V3Interface.oopts,
);

export const NetworkSpec = s.object(
  {
    ...V3Network.props,
    interfaces: interfaceList(NetworkInterfaceSpec),
    vlans: s.optional(
      s.array(
        s.object({
          name: s.string({
            description: 'Name of the VLAN device in the guest.',
            minLength: 1,
            maxLength: 15,
            pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]*$',
          }),
          id: s.int64({ description: 'VLAN ID.', minimum: 0, maximum: 4094 }),
          link: s.string({ description: 'Interface the VLAN rides on.' }),
        }),
        { description: 'VLAN devices in the guest.', listType: 'map', listMapKeys: ['name'] },
      ),
    ),
  },
  V3Network.oopts,
);

const resources = s.object({ cpu: quantity('CPU.'), memory: quantity('Memory.') });

export const VirtualMachineSpec = s.object(
  {
    ...omit(V5Spec.props, ['network', 'bootstrap', 'advanced']),
    volumeAttributesClassName: s.optional(s.string({ description: 'VolumeAttributesClass of the VM’s disks.' })),
    bootstrap: s.optional(
      s.object({ ...V5Bootstrap.props, disabled: optBool('No bootstrap at all.') }, V5Bootstrap.oopts),
    ),
    network: s.optional(NetworkSpec),
    advanced: s.optional(
      s.object(
        {
          ...AdvancedSpec.props,
          preferHtEnabled: optBool('Prefer hyperthreads for NUMA placement.'),
          hugePages1GEnabled: optBool('1 GiB huge pages.'),
          timeTrackerLowLatencyEnabled: optBool('Low-latency time tracking.'),
          cpuAffinityExclusiveNoStatsEnabled: optBool('Exclusive CPU affinity without statistics.'),
          vmxSwapEnabled: optBool('A VMX swap file.'),
          pnumaNodeAffinity: s.optional(s.array(s.int32(), { description: 'Physical NUMA nodes the VM may use.' })),
          extraConfig: pairs('Extra configuration keys of the VM.'),
        },
        AdvancedSpec.oopts,
      ),
    ),
    resources: s.optional(
      s.object(
        { size: s.optional(resources), requests: s.optional(resources), limits: s.optional(resources) },
        { description: 'CPU and memory size, reservations and limits, beside the class.' },
      ),
    ),
    cpuAdvanced: s.optional(
      s.object(
        {
          latencySensitivity: s.optional(
            s.enum(['Normal', 'High', 'HighWithHyperthreading'] as const, { description: 'Latency sensitivity.' }),
          ),
          topology: s.optional(
            s.object({
              coresPerSocket: s.optional(s.int32({ minimum: 0 })),
              vnumaNodeCount: s.optional(s.int32({ minimum: 0 })),
            }),
          ),
          hotAddEnabled: optBool('CPU hot add.'),
          iommuEnabled: optBool('Virtual IOMMU.'),
          nestedHardwareVirtualizationEnabled: optBool('Nested hardware virtualization.'),
          performanceCountersEnabled: optBool('Virtual performance counters.'),
        },
        { description: 'CPU options beyond the count.' },
      ),
    ),
    memoryAdvanced: s.optional(
      s.object(
        { hotAddEnabled: optBool('Memory hot add.'), reservationLockedToMax: optBool('Reserve all memory.') },
        { description: 'Memory options beyond the size.' },
      ),
    ),
  },
  V5Spec.oopts,
);

export const NetworkStatus = s.object(
  {
    ...V3NetworkStatus.props,
    interfaces: s.optional(
      s.array(
        s.object({
          ...V3InterfaceStatus.props,
          vnumaNodeID: s.optional(s.int32()),
          vmxnet3: s.optional(
            s.object({
              uptv2Enabled: s.optional(s.boolean()),
              uptv2Active: s.optional(s.boolean()),
              uptv2InactiveReasonVm: s.optional(s.array(s.string())),
              uptv2InactiveReasonOther: s.optional(s.array(s.string())),
            }),
          ),
        }),
      ),
    ),
  },
  V3NetworkStatus.oopts,
);

export const VirtualMachineStatus = s.object(
  {
    ...omit(V5Status.props, ['network', 'hardware']),
    network: s.optional(NetworkStatus),
    hardware: s.optional(
      s.object(
        {
          ...omit(HardwareStatus.props, ['cpu', 'memory']),
          cpu: s.optional(
            s.object({
              total: s.optional(s.int32()),
              reservation: s.optional(s.int64()),
              limit: s.optional(s.int64()),
              coresPerSocket: s.optional(s.int32()),
              simultaneousThreads: s.optional(s.int32()),
              latencySensitivity: s.optional(s.string()),
              hotAddEnabled: s.optional(s.boolean()),
              iommuEnabled: s.optional(s.boolean()),
              nestedHardwareVirtualizationEnabled: s.optional(s.boolean()),
              performanceCountersEnabled: s.optional(s.boolean()),
              vnuma: s.optional(
                s.object({ coresPerNumaNode: s.optional(s.int32()), autoCoresPerNumaNode: s.optional(s.boolean()) }),
              ),
            }),
          ),
          memory: s.optional(
            s.object({
              total: quantity('Memory size.'),
              reservation: quantity('Reserved memory.'),
              limit: quantity('Memory limit.'),
              reservationLockedToMax: s.optional(s.boolean()),
              hotAddEnabled: s.optional(s.boolean()),
            }),
          ),
        },
        HardwareStatus.oopts,
      ),
    ),
    extraConfig: pairs('Extra configuration keys vSphere holds for the VM.'),
  },
  V5Status.oopts,
);

export type VirtualMachineSpec = Infer<typeof VirtualMachineSpec>;
export type VirtualMachineStatus = Infer<typeof VirtualMachineStatus>;

export type VirtualMachine = KindObject<'VirtualMachine', VirtualMachineSpec, VirtualMachineStatus>;
