// The VM's virtual hardware beyond its class: spec.minHardwareVersion (an upgrade when vSphere holds an older
// version) and spec.advanced.bootDiskCapacity (a larger boot disk; vSphere never shrinks one). Both change a
// powered-off VM: the changes vSphere does not hold yet are written right before the next power-on from
// PoweredOff (a write of the power-on's operation, as the guest ID is), so a new VM boots with them. Condition
// VirtualMachineHardwareReconfigured says whether vSphere holds what the spec asks for, or what is pending.
import { bytesQuantity, parseQuantity } from '../../api/quantity.js';
import type { ObservedVM, VMProvider } from '../../providers/interface.js';
import { conditionFalse, conditionTrue, type ConditionUpdate } from '../../runtime/status.js';
import type { VM } from './types.js';

export const HARDWARE_RECONFIGURED = 'VirtualMachineHardwareReconfigured';

export interface HardwareAssessment {
  condition?: ConditionUpdate;
  /** What the next power-on from PoweredOff writes first, when vSphere does not hold the spec's hardware yet. */
  write?: () => Promise<void>;
}

export class VMHardware {
  /** The boot disk's capacity in bytes as last read or grown, by VM key (one vSphere read per VM and process). */
  private readonly bootDisks = new Map<string, number>();

  constructor(private readonly provider: VMProvider) {}

  forget(key: string): void {
    this.bootDisks.delete(key);
  }

  async assess(key: string, vm: VM, observed: ObservedVM): Promise<HardwareAssessment> {
    const spec = vm.spec ?? {};
    const minVersion = spec.minHardwareVersion;
    const capacity = spec.advanced?.bootDiskCapacity;
    if (capacity === undefined) this.bootDisks.delete(key);
    if (minVersion === undefined && capacity === undefined) return {};
    const pending: string[] = [];
    const upgrade = minVersion !== undefined && (observed.hardwareVersion ?? 0) < minVersion;
    if (upgrade) pending.push(`hardware version ${minVersion} (vSphere holds ${observed.hardwareVersion ?? 'none'})`);
    let grow: number | undefined;
    if (capacity !== undefined) {
      const want = parseQuantity(capacity) ?? 0;
      let have = this.bootDisks.get(key);
      if (have === undefined) {
        have = await this.provider.bootDiskCapacity(observed);
        if (have !== undefined) this.bootDisks.set(key, have);
      }
      if (have === undefined) {
        return {
          condition: conditionFalse(
            HARDWARE_RECONFIGURED,
            'NoBootDisk',
            'spec.advanced.bootDiskCapacity: the VM has no boot disk (its image has none); remove the field',
          ),
        };
      }
      if (have > want) {
        return {
          condition: conditionFalse(
            HARDWARE_RECONFIGURED,
            'BootDiskLarger',
            `spec.advanced.bootDiskCapacity ${capacity} is smaller than the boot disk (${bytesQuantity(have)}), and vSphere cannot shrink a disk: set at least ${bytesQuantity(have)} or remove the field`,
          ),
        };
      }
      if (have < want) {
        grow = want;
        pending.push(`a boot disk of ${capacity} (it has ${bytesQuantity(have)})`);
      }
    }
    if (pending.length === 0) return { condition: conditionTrue(HARDWARE_RECONFIGURED) };
    return {
      condition: conditionFalse(
        HARDWARE_RECONFIGURED,
        'PendingPowerOn',
        `${pending.join(' and ')}: applied at the next power-on`,
      ),
      write: async () => {
        if (upgrade) await this.provider.upgradeHardware(observed, minVersion);
        if (grow !== undefined) {
          await this.provider.growBootDisk(observed, grow);
          this.bootDisks.set(key, Math.ceil(grow / 1024) * 1024);
        }
      },
    };
  }
}
