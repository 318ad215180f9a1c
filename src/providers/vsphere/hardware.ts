// Changes to a deployed VM's virtual hardware, in vSphere's own shapes: the boot disk (the first disk that came
// with the image, not a First Class Disk of a volume) read and grown, and the virtual hardware upgraded.
import { UserInputError } from '../../runtime/errors.js';
import { VimFault } from '../../vsphere/faults.js';
import type { MoRef, VimObject } from '../../vsphere/vim25/codec.js';
import type { ObservedVM } from '../interface.js';
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
