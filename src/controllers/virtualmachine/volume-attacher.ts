// Attaching and detaching the disks of a VM's PersistentVolumeClaim volumes: the disks attached are recorded
// on the VirtualMachine (annotation, written before an attach and after a detach), so a volume removed from the
// spec is detached even when its claim is gone, and a manager restart between a vSphere task and the status
// write neither repeats an attach nor loses a detach.
import { errorMessage } from '../../runtime/errors.js';
import type { ObservedVM, VMProvider } from '../../providers/interface.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import { conditionFalse, conditionTrue, type ConditionUpdate } from '../../runtime/status.js';
import type { VM, VolumeStatus } from './types.js';
import { ATTACHED_DISKS_ANNOTATION, recordedDisks, resolveVolume, type VolumeCaches } from './volumes.js';

/** Detaches one reconcile may issue; more are left to the next reconcile (queued at once). */
export const MAX_DETACHES_PER_RECONCILE = 8;

/** True when every PersistentVolumeClaim volume of the VM is attached. */
export const VOLUMES_READY = 'VirtualMachineVolumesReady';

export class VolumeAttacher {
  constructor(
    private readonly client: KubeClient,
    private readonly provider: VMProvider,
    private readonly caches: VolumeCaches,
    private readonly event: (...args: Parameters<EventRecorder['record']>) => void,
  ) {}

  /**
   * Attaches the disks of the VM's PersistentVolumeClaim volumes and detaches those of volumes that left the
   * spec. The record of attached disks (an annotation) is written before an attach and after a detach.
   * Returns the VM as stored, status.volumes, what is still pending (for the power-on), and the condition.
   */
  async reconcile(
    vm: VM,
    observed: ObservedVM,
  ): Promise<{
    vm: VM;
    statuses?: VolumeStatus[];
    pending: string[];
    condition?: ConditionUpdate;
    requeueAfterMs?: number;
  }> {
    const ns = vm.metadata.namespace!;
    const specVolumes = (vm.spec?.volumes ?? []).filter((v) => v.persistentVolumeClaim);
    let recorded = recordedDisks(vm.metadata.annotations);
    if (specVolumes.length === 0 && Object.keys(recorded).length === 0) {
      // Nothing to attach or detach (and no vSphere call for the many VMs without volumes).
      return { vm, pending: [], statuses: undefined };
    }
    const provider = this.provider;
    const resolved = specVolumes.map((v) => resolveVolume(ns, v, this.caches));
    const inSpec = new Set(specVolumes.map((v) => v.name));
    const wanted = new Map(resolved.flatMap((r) => ('diskID' in r ? [[r.name, r.diskID] as const] : [])));
    // Detach volumes that left the spec, or whose claim now points at another disk; one that cannot be resolved
    // for the moment (its claim is being recreated, say) stays as it is. At most MAX_DETACHES_PER_RECONCILE at
    // a time, and the record is written once after them: detaching is idempotent, so a crash in between only
    // repeats harmless detaches.
    const stale = Object.entries(recorded).filter(
      ([name, id]) => !(wanted.get(name) === id || (inSpec.has(name) && !wanted.has(name))),
    );
    let more = false;
    if (stale.length > 0) {
      const batch = stale.slice(0, MAX_DETACHES_PER_RECONCILE);
      more = stale.length > batch.length;
      const detached: string[] = [];
      let failure: unknown;
      for (const [name, id] of batch) {
        try {
          // The provider detaches only a disk that is attached to this VM.
          await provider.detachDisk(observed, id);
          detached.push(name);
        } catch (err) {
          failure = err;
          this.event(
            vm,
            'Warning',
            'VolumeDetachFailed',
            `detaching disk ${id} (volume ${name}) failed: ${errorMessage(err)}; retrying`,
          );
          break;
        }
      }
      if (detached.length > 0) {
        recorded = Object.fromEntries(Object.entries(recorded).filter(([name]) => !detached.includes(name)));
        vm = await this.record(vm, recorded);
        this.event(vm, 'Normal', 'VolumeDetached', `detached the disks of volume(s) ${detached.join(', ')}`);
      }
      if (failure) throw failure;
    }
    const reported = new Map((vm.status?.volumes ?? []).map((v) => [v.name, v]));
    const statuses: VolumeStatus[] = [];
    const pending: string[] = [];
    let failed = false;
    for (const r of resolved) {
      if (!('diskID' in r)) {
        statuses.push({ name: r.name, type: 'Managed', attached: false, error: r.error });
        pending.push(`${r.name}: ${r.error}`);
        continue;
      }
      const known = recorded[r.name] === r.diskID ? reported.get(r.name) : undefined;
      if (known?.attached) {
        // Attached by this controller and reported so before: no vSphere call, so a reconcile's cost does not
        // grow with the volumes already attached (a label write on a VM with 40 volumes costs nothing here).
        statuses.push({ ...known, ...(r.limit ? { limit: r.limit } : {}) });
        continue;
      }
      if (recorded[r.name] !== r.diskID) {
        recorded = { ...recorded, [r.name]: r.diskID };
        vm = await this.record(vm, recorded);
      }
      let attachment = await provider.diskAttachment(observed, r.diskID);
      if (!attachment.attached) {
        try {
          await provider.attachDisk(observed, r.diskID);
          this.event(
            vm,
            'Normal',
            'VolumeAttached',
            `attached disk ${r.diskID} of claim ${r.claim} as volume ${r.name}`,
          );
          attachment = await provider.diskAttachment(observed, r.diskID);
        } catch (err) {
          const error = `attaching disk ${r.diskID} failed: ${errorMessage(err)}`;
          this.event(vm, 'Warning', 'VolumeAttachFailed', `${error}; retrying`);
          statuses.push({ name: r.name, type: 'Managed', attached: false, error });
          pending.push(`${r.name}: ${error}`);
          failed = true;
          continue;
        }
      }
      statuses.push({
        name: r.name,
        type: 'Managed',
        attached: attachment.attached,
        ...(attachment.diskUUID ? { diskUUID: attachment.diskUUID } : {}),
        ...(r.limit ? { limit: r.limit } : {}),
      });
      if (!attachment.attached) pending.push(`${r.name}: disk ${r.diskID} is not attached yet`);
    }
    const condition: ConditionUpdate =
      pending.length === 0
        ? conditionTrue(VOLUMES_READY)
        : conditionFalse(VOLUMES_READY, 'VolumesPending', pending.join('; '));
    const requeueAfterMs = failed ? 10_000 : more ? 1 : undefined;
    return { vm, statuses, pending, condition, ...(requeueAfterMs ? { requeueAfterMs } : {}) };
  }

  /**
   * Detaches every recorded disk that is attached to this VM (before the VM is destroyed), then clears the
   * record with one write; returns the VM as stored.
   */
  async detachAll(vm: VM, observed: ObservedVM): Promise<VM> {
    const recorded = recordedDisks(vm.metadata.annotations);
    const names = Object.keys(recorded);
    if (names.length === 0) return vm;
    for (const id of new Set(Object.values(recorded))) await this.provider.detachDisk(observed, id);
    this.event(vm, 'Normal', 'VolumeDetached', `detached the disks of volume(s) ${names.join(', ')}`);
    return this.record(vm, {});
  }

  /** Writes the record of attached disks (volume name → disk ID) onto the VM; returns the stored VM. */
  private async record(vm: VM, disks: Record<string, string>): Promise<VM> {
    const value = Object.keys(disks).length > 0 ? JSON.stringify(disks) : null;
    return this.client.request<VM>('PATCH', await this.client.objectPath(vm), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { [ATTACHED_DISKS_ANNOTATION]: value } } },
    });
  }
}
