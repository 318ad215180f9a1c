// Changes to a deployed VM's virtual hardware, in vSphere's own shapes: the boot disk (the first disk that came
// with the image, not a First Class Disk of a volume) read and grown, the virtual hardware upgraded, and CD-ROMs
// backed by the ISO files of content library items.
import { UserInputError } from '../../runtime/errors.js';
import { VimFault } from '../../vsphere/faults.js';
import type { MoRef, VimObject } from '../../vsphere/vim25/codec.js';
import type { CdromState, ObservedVM } from '../interface.js';
import type { Connection } from './session.js';

const ref = (vm: ObservedVM): MoRef => ({ type: 'VirtualMachine', value: vm.id });

interface DiskDevice extends VimObject {
  key: number;
  controllerKey?: number;
  unitNumber?: number;
  capacityInKB?: number;
  capacityInBytes?: number;
  vDiskId?: unknown;
}

const capacityOf = (d: DiskDevice) => Number(d.capacityInBytes ?? 0) || Number(d.capacityInKB ?? 0) * 1024;

/** The VM's boot disk: of its disks that are not First Class Disks, the first by controller and unit. */
async function bootDiskDevice(conn: Connection, vm: ObservedVM): Promise<DiskDevice | undefined> {
  const { 'config.hardware.device': devices } = await conn.api.pc.one(ref(vm), ['config.hardware.device']);
  return ((devices as DiskDevice[] | undefined) ?? [])
    .filter((d) => d._typeName === 'VirtualDisk' && d.vDiskId === undefined)
    .sort((a, b) => (a.controllerKey ?? 0) - (b.controllerKey ?? 0) || (a.unitNumber ?? 0) - (b.unitNumber ?? 0))[0];
}

/** The boot disk's capacity in bytes; undefined for a VM without one. */
export async function bootDiskCapacity(conn: Connection, vm: ObservedVM): Promise<number | undefined> {
  const disk = await bootDiskDevice(conn, vm);
  return disk ? capacityOf(disk) : undefined;
}

/**
 * Grows the boot disk to `bytes` (rounded up to whole KiB) with a device edit; one at least that large already
 * is left alone. vSphere's refusal (a disk on a snapshot chain, not enough space) is a UserInputError.
 */
export async function growBootDisk(conn: Connection, vm: ObservedVM, bytes: number): Promise<void> {
  const disk = await bootDiskDevice(conn, vm);
  if (!disk) throw new UserInputError('the VM has no boot disk to resize', 'NoBootDisk');
  if (capacityOf(disk) >= bytes) return;
  const kib = Math.ceil(bytes / 1024);
  try {
    await conn.api.reconfigure(ref(vm), {
      _typeName: 'VirtualMachineConfigSpec',
      deviceChange: [
        {
          _typeName: 'VirtualDeviceConfigSpec',
          operation: 'edit',
          device: { ...disk, capacityInKB: kib, capacityInBytes: kib * 1024 },
        },
      ],
    });
  } catch (err) {
    if (err instanceof VimFault && (err.is('InvalidDeviceOperation') || err.is('InsufficientDisksFault'))) {
      throw new UserInputError(`vSphere refused to grow the boot disk: ${err.message}`, 'BootDiskResizeFailed');
    }
    throw err;
  }
}

/**
 * Upgrades the powered-off VM's virtual hardware to version `version` (UpgradeVM_Task to vmx-NN). A VM that
 * has it already, or a newer one, is left alone (false); a version its host cannot run is a UserInputError.
 */
export async function upgradeHardware(conn: Connection, vm: ObservedVM, version: number): Promise<boolean> {
  if (vm.hardwareVersion !== undefined && vm.hardwareVersion >= version) return false;
  try {
    await conn.api.upgradeVM(ref(vm), `vmx-${String(version).padStart(2, '0')}`);
    return true;
  } catch (err) {
    // Already at that version (or newer): what was asked for.
    if (err instanceof VimFault && err.is('AlreadyUpgraded')) return false;
    if (err instanceof VimFault && (err.is('NotSupported') || err.is('InvalidArgument'))) {
      throw new UserInputError(
        `spec.minHardwareVersion: vSphere cannot upgrade the VM to hardware version ${version}: ${err.message}`,
        'HardwareUpgradeFailed',
      );
    }
    throw err;
  }
}

interface CdromDevice extends VimObject {
  key: number;
  controllerKey?: number;
  unitNumber?: number;
  backing?: { _typeName?: string; fileName?: string };
  connectable?: { connected?: boolean; startConnected?: boolean; allowGuestControl?: boolean };
}

/** The VM's CD-ROMs in device order: ISO path (if ISO-backed) and connection settings. */
export async function cdroms(conn: Connection, vm: ObservedVM): Promise<(CdromState & { key: number })[]> {
  return (await cdromDevices(conn, vm)).map((d) => ({
    key: d.key,
    isoPath: d.backing?._typeName === 'VirtualCdromIsoBackingInfo' ? String(d.backing.fileName ?? '') : '',
    connected: d.connectable?.connected === true,
    allowGuestControl: d.connectable?.allowGuestControl === true,
  }));
}

async function cdromDevices(conn: Connection, vm: ObservedVM): Promise<CdromDevice[]> {
  const { 'config.hardware.device': devices } = await conn.api.pc.one(ref(vm), ['config.hardware.device']);
  return ((devices as CdromDevice[] | undefined) ?? [])
    .filter((d) => d._typeName === 'VirtualCdrom')
    .sort((a, b) => a.key - b.key);
}

/**
 * Makes the VM's CD-ROMs what `wanted` says, in order: existing ones edited (backing, connection), missing
 * ones added on a free IDE slot, extra ones removed — one reconfigure. A powered-on VM takes only connection
 * changes (vSphere refuses the rest while it runs; the webhook keeps them for a powered-off VM).
 */
export async function setCdroms(conn: Connection, vm: ObservedVM, wanted: CdromState[]): Promise<void> {
  const { 'config.hardware.device': all } = await conn.api.pc.one(ref(vm), ['config.hardware.device']);
  const devices = (all as CdromDevice[] | undefined) ?? [];
  const present = devices.filter((d) => d._typeName === 'VirtualCdrom').sort((a, b) => a.key - b.key);
  // Free IDE slots (two per controller), for CD-ROMs to add.
  const taken = new Set(devices.map((d) => `${d.controllerKey}:${d.unitNumber}`));
  const free = devices
    .filter((d) => d._typeName === 'VirtualIDEController')
    .flatMap((c) => [0, 1].map((unit) => ({ controllerKey: c.key, unitNumber: unit })))
    .filter((s) => !taken.has(`${s.controllerKey}:${s.unitNumber}`));
  const device = (w: CdromState, base: Partial<CdromDevice>) => ({
    ...base,
    _typeName: 'VirtualCdrom',
    backing: { _typeName: 'VirtualCdromIsoBackingInfo', fileName: w.isoPath },
    connectable: {
      _typeName: 'VirtualDeviceConnectInfo',
      startConnected: w.connected,
      connected: w.connected,
      allowGuestControl: w.allowGuestControl,
    },
  });
  const changes: VimObject[] = [];
  for (const [i, w] of wanted.entries()) {
    const d = present[i];
    if (d) {
      changes.push({ _typeName: 'VirtualDeviceConfigSpec', operation: 'edit', device: device(w, d) });
      continue;
    }
    const slot = free.shift();
    if (!slot) {
      throw new UserInputError(`spec.hardware.cdrom: the VM has no free IDE slot for CD-ROM ${i + 1}`, 'NoCdromSlot');
    }
    changes.push({
      _typeName: 'VirtualDeviceConfigSpec',
      operation: 'add',
      device: device(w, { key: -200 - i, controllerKey: slot.controllerKey, unitNumber: slot.unitNumber }),
    });
  }
  for (const d of present.slice(wanted.length)) {
    changes.push({ _typeName: 'VirtualDeviceConfigSpec', operation: 'remove', device: d });
  }
  if (changes.length > 0) {
    await conn.api.reconfigure(ref(vm), { _typeName: 'VirtualMachineConfigSpec', deviceChange: changes });
  }
}

/**
 * The datastore path ("[ds] folder/file.iso") of a library item's ISO file: its storage URI with the datastore
 * URL that begins it replaced by the datastore's name.
 */
export async function isoPath(conn: Connection, itemID: string): Promise<string> {
  const files = await conn.rest.itemStorage(itemID);
  const iso = files.find((f) => f.name.toLowerCase().endsWith('.iso'));
  const uri = iso?.storage_uris[0];
  if (!uri) throw new UserInputError(`content library item ${itemID} has no ISO file`, 'NotAnISO');
  const stores = await conn.api.pc.containerObjects(['Datastore'], ['name', 'summary.url']);
  const bare = (u: string) => u.replace(/^ds:\/\//, '').replace(/\/+$/, '');
  for (const ds of stores) {
    const root = bare(String(ds.props['summary.url'] ?? ''));
    const path = bare(uri);
    if (root && path.startsWith(`${root}/`)) return `[${String(ds.props.name)}] ${path.slice(root.length + 1)}`;
  }
  throw new Error(`no datastore holds ${uri}, the ISO file of library item ${itemID}`);
}
