// The VM's virtual hardware beyond its class: spec.minHardwareVersion (an upgrade when vSphere holds an older
// version), spec.advanced.bootDiskCapacity (a larger boot disk; vSphere never shrinks one) and spec.cdrom
// (CD-ROMs backed by the ISO files of ISO images). They change a powered-off VM: the changes vSphere does not
// hold yet are written right before the next power-on from PoweredOff (a write of the power-on's operation, as
// the guest ID is), so a new VM boots with them. A running VM's CD-ROMs are connected or disconnected at once
// (an operation of its own). Condition VirtualMachineHardwareReconfigured says whether vSphere holds what the
// spec asks for, or what is pending.
import { bytesQuantity, parseQuantity } from '../../api/quantity.js';
import type { CdromState, ObservedVM, VMProvider } from '../../providers/interface.js';
import { errorMessage, UserInputError } from '../../runtime/errors.js';
import type { KubeObject } from '../../runtime/kube-client.js';
import { conditionFalse, conditionTrue, type ConditionUpdate } from '../../runtime/status.js';
import type { DependencyCaches } from './dependencies.js';
import type { VM } from './types.js';

export const HARDWARE_RECONFIGURED = 'VirtualMachineHardwareReconfigured';

export interface HardwareAssessment {
  condition?: ConditionUpdate;
  /** What the next power-on from PoweredOff writes first, when vSphere does not hold the spec's hardware yet. */
  write?: () => Promise<void>;
  /** A change a running VM takes now (CD-ROMs connected or disconnected), as an operation of its own. */
  now?: { what: string; run: () => Promise<void> };
}

type ImageObject = KubeObject & { status?: { providerItemID?: string; type?: string } };

export class VMHardware {
  /** The boot disk's capacity in bytes as last read or grown, by VM key (one vSphere read per VM and process). */
  private readonly bootDisks = new Map<string, number>();

  /** The CD-ROMs last found or made as the spec says, by VM key (JSON), so an unchanged spec reads nothing. */
  private readonly cdromsInPlace = new Map<string, string>();

  constructor(
    private readonly provider: VMProvider,
    private readonly caches: Pick<DependencyCaches, 'images' | 'clusterImages'>,
  ) {}

  forget(key: string): void {
    this.bootDisks.delete(key);
    this.cdromsInPlace.delete(key);
  }

  /** The CD-ROMs the spec asks for (ISO paths resolved), or the condition that says why they cannot be made. */
  private async wantedCdroms(vm: VM): Promise<CdromState[] | ConditionUpdate> {
    const ns = vm.metadata.namespace!;
    const out: CdromState[] = [];
    for (const [i, c] of (vm.spec?.hardware?.cdrom ?? []).entries()) {
      const image = (
        c.image.kind === 'ClusterVirtualMachineImage'
          ? this.caches.clusterImages.get(c.image.name)
          : this.caches.images.get(`${ns}/${c.image.name}`)
      ) as ImageObject | undefined;
      const field = `spec.hardware.cdrom[${i}].image`;
      const itemID = image?.status?.providerItemID;
      if (!image || !itemID) {
        return conditionFalse(
          HARDWARE_RECONFIGURED,
          'CdromImageNotFound',
          `${field}: ${c.image.kind} ${c.image.name} does not exist (yet)`,
        );
      }
      if (image.status?.type && image.status.type !== 'ISO') {
        return conditionFalse(
          HARDWARE_RECONFIGURED,
          'NotAnISO',
          `${field}: ${c.image.kind} ${c.image.name} is of type ${image.status.type}; a CD-ROM needs an ISO image`,
        );
      }
      try {
        out.push({
          isoPath: await this.provider.isoPath(itemID),
          connected: c.connected ?? true,
          allowGuestControl: c.allowGuestControl ?? true,
        });
      } catch (err) {
        if (!(err instanceof UserInputError)) throw err;
        return conditionFalse(HARDWARE_RECONFIGURED, err.reason, `${field}: ${err.message}`);
      }
    }
    return out;
  }

  async assess(key: string, vm: VM, observed: ObservedVM): Promise<HardwareAssessment> {
    const spec = vm.spec ?? {};
    const minVersion = spec.minHardwareVersion;
    const capacity = spec.advanced?.bootDiskCapacity;
    if (capacity === undefined) this.bootDisks.delete(key);
    // (CD-ROMs are looked at while the spec has some, or had some this process made.)
    const cdromsAsked = (spec.hardware?.cdrom?.length ?? 0) > 0 || this.cdromsInPlace.has(key);
    if (minVersion === undefined && capacity === undefined && !cdromsAsked) return {};
    const pending: string[] = [];
    let cdroms: CdromState[] | undefined;
    let cdromsNow: CdromState[] | undefined;
    if (cdromsAsked) {
      const wanted = await this.wantedCdroms(vm);
      if (!Array.isArray(wanted)) return { condition: wanted };
      const json = JSON.stringify(wanted);
      if (this.cdromsInPlace.get(key) !== json) {
        const have = await this.provider.cdroms(observed);
        const same = (a: CdromState[], b: CdromState[]) => JSON.stringify(a) === JSON.stringify(b);
        if (same(have, wanted)) this.cdromsInPlace.set(key, json);
        else if (
          observed.powerState === 'PoweredOn' &&
          JSON.stringify(have.map((c) => c.isoPath)) === JSON.stringify(wanted.map((c) => c.isoPath))
        ) {
          cdromsNow = wanted; // only connections differ: a running VM takes that now
        } else {
          cdroms = wanted;
          pending.push(`${wanted.length} CD-ROM(s) as spec.hardware.cdrom says (the VM has ${have.length})`);
        }
      }
    }
    let version = observed.hardwareVersion ?? 0;
    // A running VM that seems older than asked may be the cache a moment behind the upgrade its power-on wrote:
    // vSphere says (and the cache learns it), before the status says the change is pending.
    if (minVersion !== undefined && version < minVersion && observed.powerState === 'PoweredOn') {
      version = (await this.provider.refreshVM(observed)).hardwareVersion ?? 0;
    }
    const upgrade = minVersion !== undefined && version < minVersion;
    if (upgrade) pending.push(`hardware version ${minVersion} (vSphere holds ${version || 'none'})`);
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
    if (cdromsNow) {
      const wanted = cdromsNow;
      return {
        condition: conditionFalse(HARDWARE_RECONFIGURED, 'Reconfiguring', 'connecting and disconnecting CD-ROMs'),
        now: {
          what: 'connecting and disconnecting CD-ROMs',
          run: async () => {
            await this.provider.setCdroms(observed, wanted);
            this.cdromsInPlace.set(key, JSON.stringify(wanted));
          },
        },
      };
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
        if (cdroms) {
          await this.provider.setCdroms(observed, cdroms);
          this.cdromsInPlace.set(key, JSON.stringify(cdroms));
        }
        if (grow !== undefined) {
          await this.provider.growBootDisk(observed, grow);
          this.bootDisks.set(key, Math.ceil(grow / 1024) * 1024);
        }
      },
    };
  }
}

/** The condition after a running VM's CD-ROM change failed (it is tried again by the next reconcile). */
export function reconfigureFailed(error: unknown): ConditionUpdate {
  return conditionFalse(
    HARDWARE_RECONFIGURED,
    'ReconfigureFailed',
    `changing the CD-ROMs failed: ${errorMessage(error)}; retrying`,
  );
}
