// The guest-bootstrap side of a vSphere VM, in vSphere's own shapes: ExtraConfig writes (guestinfo), guest OS
// customization, vApp properties, and the guest's NICs as VM Tools report them (turned into domain GuestNICs).
import { UserInputError } from '../../runtime/errors.js';
import { VimFault } from '../../vsphere/faults.js';
import { VimEncodeError, type MoRef, type VimObject } from '../../vsphere/vim25/codec.js';
import { type GuestNIC, type ObservedVM, type VAppProperty } from '../interface.js';
import type { Connection } from './session.js';

const ref = (vm: ObservedVM): MoRef => ({ type: 'VirtualMachine', value: vm.id });

export async function writeExtraConfig(
  conn: Connection,
  vm: ObservedVM,
  entries: Record<string, string>,
): Promise<void> {
  await conn.api.reconfigure(ref(vm), {
    _typeName: 'VirtualMachineConfigSpec',
    extraConfig: Object.entries(entries).map(([key, value]) => ({ _typeName: 'OptionValue', key, value })),
  });
}

/** CustomizeVM_Task; a customization already pending is fine; vSphere's refusal is a UserInputError. */
export async function customize(conn: Connection, vm: ObservedVM, spec: VimObject): Promise<void> {
  try {
    await conn.api.customize(ref(vm), spec);
  } catch (err) {
    // Already customized for the next power-on (a retry after the task ran): nothing more to do.
    if (err instanceof VimFault && err.is('CustomizationPending')) return;
    if (err instanceof VimFault && (err.is('CustomizationFault') || err.is('InvalidArgument'))) {
      throw new UserInputError(`vSphere refused the guest customization: ${err.message}`, 'CustomizationFailed');
    }
    if (err instanceof VimEncodeError) {
      throw new UserInputError(`the guest customization is not valid: ${err.message}`, 'CustomizationFailed');
    }
    throw err;
  }
}

/** The VM's VAppPropertyInfo objects. */
export async function vAppPropertyInfos(conn: Connection, vm: ObservedVM): Promise<Record<string, unknown>[]> {
  const { 'config.vAppConfig': vapp } = await conn.api.pc.one(ref(vm), ['config.vAppConfig']);
  return ((vapp as { property?: Record<string, unknown>[] } | undefined)?.property ?? []).map((p) => ({ ...p }));
}

/** Edits the properties with these IDs (whole VAppPropertyInfo objects, as vSphere wants them). */
export async function setVAppProperties(conn: Connection, vm: ObservedVM, values: VAppProperty[]): Promise<void> {
  const infos = new Map((await vAppPropertyInfos(conn, vm)).map((p) => [String(p.id), p]));
  const edits = values.flatMap((v) => {
    const info = infos.get(v.id);
    return info ? [{ ...info, value: v.value }] : [];
  });
  if (edits.length === 0) return;
  await conn.api.reconfigure(ref(vm), {
    _typeName: 'VirtualMachineConfigSpec',
    vAppConfig: {
      _typeName: 'VmConfigSpec',
      property: edits.map((info) => ({
        _typeName: 'VAppPropertySpec',
        operation: 'edit',
        info: { ...info, _typeName: 'VAppPropertyInfo' },
      })),
    },
  });
}

interface GuestNicInfo {
  macAddress?: string;
  deviceConfigId?: number;
  dnsConfig?: { dhcp?: boolean; hostName?: string; domainName?: string; ipAddress?: string[]; searchDomain?: string[] };
  ipConfig?: {
    ipAddress?: { ipAddress: string; prefixLength?: number; origin?: string; state?: string; lifetime?: string }[];
    dhcp?: { ipv4?: { enable?: boolean }; ipv6?: { enable?: boolean } };
    autoConfigurationEnabled?: boolean;
  };
}

/** The VM's adapters as VM Tools report them (guest.net), those of the VM's own devices, in device order. */
export async function guestNICs(conn: Connection, vm: ObservedVM): Promise<GuestNIC[]> {
  const { 'guest.net': net } = await conn.api.pc.one(ref(vm), ['guest.net']);
  return ((net as GuestNicInfo[] | undefined) ?? [])
    .filter((n) => (n.deviceConfigId ?? -1) >= 0)
    .sort((a, b) => (a.deviceConfigId ?? 0) - (b.deviceConfigId ?? 0))
    .map((n) => ({
      deviceKey: n.deviceConfigId!,
      ...(n.macAddress ? { macAddress: n.macAddress.toLowerCase() } : {}),
      addresses: (n.ipConfig?.ipAddress ?? []).map((a) => ({
        ip: a.ipAddress,
        ...(a.prefixLength !== undefined ? { prefixLength: a.prefixLength } : {}),
        ...(a.origin ? { origin: a.origin.toLowerCase() } : {}),
        ...(a.state ? { state: a.state.toLowerCase() } : {}),
        ...(a.lifetime ? { lifetime: a.lifetime } : {}),
      })),
      ...(n.ipConfig?.dhcp?.ipv4 ? { dhcp4: n.ipConfig.dhcp.ipv4.enable === true } : {}),
      ...(n.ipConfig?.dhcp?.ipv6 ? { dhcp6: n.ipConfig.dhcp.ipv6.enable === true } : {}),
      ...(n.ipConfig?.autoConfigurationEnabled !== undefined
        ? { autoConfiguration: n.ipConfig.autoConfigurationEnabled }
        : {}),
      ...(n.dnsConfig
        ? {
            dns: {
              ...(n.dnsConfig.dhcp !== undefined ? { dhcp: n.dnsConfig.dhcp } : {}),
              ...(n.dnsConfig.hostName ? { hostName: n.dnsConfig.hostName } : {}),
              ...(n.dnsConfig.domainName ? { domainName: n.dnsConfig.domainName } : {}),
              ...(n.dnsConfig.ipAddress?.length ? { nameservers: n.dnsConfig.ipAddress } : {}),
              ...(n.dnsConfig.searchDomain?.length ? { searchDomains: n.dnsConfig.searchDomain } : {}),
            },
          }
        : {}),
    }));
}

/** The VM's `guestinfo.<key>` ExtraConfig values for these keys, by key (read now, not from a cache). */
export async function guestInfo(conn: Connection, vm: ObservedVM, keys: string[]): Promise<Record<string, string>> {
  const { 'config.extraConfig': extra } = await conn.api.pc.one(ref(vm), ['config.extraConfig']);
  const wanted = new Set(keys.map((k) => `guestinfo.${k}`));
  const out: Record<string, string> = {};
  for (const o of (extra as { key?: string; value?: unknown }[] | undefined) ?? []) {
    if (o.key && wanted.has(o.key)) out[o.key.slice('guestinfo.'.length)] = String(o.value ?? '');
  }
  return out;
}
