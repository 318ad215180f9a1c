// The VirtualMachineConfigSpec a new VM is deployed with: the class's configSpec as the base (allocations,
// devices, extra config), the class hardware where the configSpec leaves CPUs or memory out, the class's
// resource policy (requests and limits) where it leaves the allocations out, PCI passthrough for its vGPU and
// DirectPath I/O devices, the identity the
// VM object asks for (instance and BIOS UUIDs, guest ID), one NIC per interface, and ExtraConfig keys that
// lead from the vSphere VM back to its Kubernetes object. Pure: no vSphere calls.
import { UserInputError } from '../../runtime/errors.js';
import { isKnownType, isSubtype } from '../../vsphere/vim25/metadata.js';
import type { VimObject } from '../../vsphere/vim25/codec.js';
import { type VMCreateRequest } from '../interface.js';

/** ExtraConfig keys that name the Kubernetes object a VM belongs to. */
export const EXTRA_CONFIG_KEYS = {
  namespace: 'vmoperator.vmware.com/namespace',
  name: 'vmoperator.vmware.com/name',
  uid: 'vmoperator.vmware.com/uid',
} as const;

/** The adapter type of interfaces the class has no NIC for. */
export const DEFAULT_NIC_TYPE = 'VirtualVmxnet3';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNICDevice(device: unknown): device is VimObject {
  return (
    isObject(device) &&
    typeof device._typeName === 'string' &&
    isKnownType(device._typeName) &&
    isSubtype(device._typeName, 'VirtualEthernetCard')
  );
}

/**
 * The NIC adapter types for `count` interfaces: the class's NIC devices in order, then VirtualVmxnet3 for the
 * interfaces beyond them.
 */
export function nicTypes(classConfigSpec: Record<string, unknown> | undefined, count: number): string[] {
  const classNICs = classDeviceChanges(classConfigSpec)
    .map((c) => c.device)
    .filter(isNICDevice)
    .map((d) => String(d._typeName));
  return Array.from({ length: count }, (_, i) => classNICs[i] ?? DEFAULT_NIC_TYPE);
}

function classDeviceChanges(spec: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const list = spec?.deviceChange;
  return Array.isArray(list) ? list.filter(isObject) : [];
}

function omit(obj: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !keys.includes(k)));
}

function optionValue(key: string, value: string): VimObject {
  return { _typeName: 'OptionValue', key, value };
}

export interface ConfigSpecOptions {
  /** Name of the vSphere network the NICs connect to (when the request names none for an interface). */
  network: string;
  /** MHz of one vCPU for the class's CPU requests and limits (the cluster's slowest host). */
  cpuMhz?: number;
  /** NIC backings by network name (resolved by the caller); a plain network backing by name otherwise. */
  backings?: Map<string, VimObject>;
}

function backingFor(network: string, opts: ConfigSpecOptions): VimObject {
  return opts.backings?.get(network) ?? { _typeName: 'VirtualEthernetCardNetworkBackingInfo', deviceName: network };
}

export function buildConfigSpec(req: VMCreateRequest, opts: ConfigSpecOptions): VimObject {
  // The class's configSpec is stored as its author wrote it (vSphere's JSON): read it as such.
  const base: Record<string, unknown> = isObject(req.classConfigSpec) ? req.classConfigSpec : {};
  if (base._typeName !== undefined && base._typeName !== 'VirtualMachineConfigSpec') {
    throw new UserInputError(
      `the VirtualMachineClass configSpec has _typeName ${JSON.stringify(base._typeName)}; it must be VirtualMachineConfigSpec`,
      'InvalidConfigSpec',
    );
  }
  // Identity, name and files belong to the VM object, never to its class.
  const rest = omit(base, ['_typeName', 'name', 'instanceUuid', 'uuid', 'files', 'deviceChange', 'extraConfig']);
  const extraConfig = base.extraConfig;
  const otherDevices = classDeviceChanges(base).filter((c) => !isNICDevice(c.device));
  const types = nicTypes(base, req.interfaces.length);
  const classNICs = classDeviceChanges(base)
    .map((c) => c.device)
    .filter(isNICDevice);
  const nics = types.map((type, i) => {
    const fromClass = classNICs[i] ?? {};
    // Adapter settings of the class's NIC are kept; key, backing and label are the VM's own.
    const settings = omit(fromClass, ['key', 'backing', 'deviceInfo', 'unitNumber', 'controllerKey']);
    return {
      _typeName: 'VirtualDeviceConfigSpec',
      operation: 'add',
      device: {
        ...settings,
        _typeName: type,
        key: -1000 - i,
        backing: backingFor(req.interfaceNetworks?.[i] ?? opts.network, opts),
        connectable: {
          _typeName: 'VirtualDeviceConnectInfo',
          startConnected: true,
          allowGuestControl: true,
          connected: true,
        },
        addressType: typeof settings.addressType === 'string' ? settings.addressType : 'generated',
      },
    };
  });
  const classExtra = Array.isArray(extraConfig)
    ? extraConfig.filter(
        (o): o is VimObject =>
          isObject(o) && !Object.values(EXTRA_CONFIG_KEYS).includes(o.key as (typeof EXTRA_CONFIG_KEYS)['name']),
      )
    : [];
  const spec: VimObject = {
    ...rest,
    _typeName: 'VirtualMachineConfigSpec',
    name: req.name,
    instanceUuid: req.instanceUUID,
    uuid: req.biosUUID,
    extraConfig: [
      ...classExtra,
      optionValue(EXTRA_CONFIG_KEYS.namespace, req.namespace),
      optionValue(EXTRA_CONFIG_KEYS.name, req.name),
      optionValue(EXTRA_CONFIG_KEYS.uid, req.uid),
    ],
    deviceChange: [...otherDevices, ...nics],
  };
  const r = req.resources;
  const allocation = (reservation: number | undefined, limit: number | undefined): VimObject => ({
    _typeName: 'ResourceAllocationInfo',
    ...(reservation !== undefined ? { reservation } : {}),
    ...(limit !== undefined ? { limit } : {}),
  });
  const mhz = (cores: number | undefined) =>
    cores !== undefined && opts.cpuMhz !== undefined ? Math.ceil(cores * opts.cpuMhz) : undefined;
  const mb = (bytes: number | undefined) => (bytes !== undefined ? Math.ceil(bytes / 2 ** 20) : undefined);
  if (spec.cpuAllocation === undefined && (r?.cpuRequest !== undefined || r?.cpuLimit !== undefined)) {
    spec.cpuAllocation = allocation(mhz(r.cpuRequest), mhz(r.cpuLimit));
  }
  if (
    spec.memoryAllocation === undefined &&
    (r?.memoryRequestBytes !== undefined || r?.memoryLimitBytes !== undefined)
  ) {
    spec.memoryAllocation = allocation(mb(r.memoryRequestBytes), mb(r.memoryLimitBytes));
  }
  // PCI passthrough from the class's devices: each vGPU profile and each dynamic DirectPath I/O device; such a
  // VM's memory is reserved in full, as vSphere requires for passthrough.
  const pci = [
    ...(req.devices?.vgpuProfiles ?? []).map((vgpu) => ({
      _typeName: 'VirtualPCIPassthroughVmiopBackingInfo',
      vgpu,
    })),
    ...(req.devices?.directPath ?? []).map((d) => ({
      _typeName: 'VirtualPCIPassthroughDynamicBackingInfo',
      deviceName: '',
      allowedDevice: [{ _typeName: 'VirtualPCIPassthroughAllowedDevice', vendorId: d.vendorID, deviceId: d.deviceID }],
      ...(d.customLabel ? { customLabel: d.customLabel } : {}),
    })),
  ].map((backing, i) => ({
    _typeName: 'VirtualDeviceConfigSpec',
    operation: 'add',
    device: { _typeName: 'VirtualPCIPassthrough', key: -500 - i, backing },
  }));
  if (pci.length > 0) {
    spec.deviceChange = [...(spec.deviceChange as VimObject[]), ...pci];
    spec.memoryReservationLockedToMax = true;
  }
  if (spec.numCPUs === undefined && req.cpus !== undefined) spec.numCPUs = req.cpus;
  if (spec.memoryMB === undefined && req.memoryMiB !== undefined) spec.memoryMB = req.memoryMiB;
  if (req.guestID) spec.guestId = req.guestID;
  return spec;
}
