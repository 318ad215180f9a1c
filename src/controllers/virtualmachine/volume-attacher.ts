// Attaching and detaching the disks of a VM's PersistentVolumeClaim volumes: the disks attached are recorded
// on the VirtualMachine (annotation, written before an attach and after a detach), so a volume removed from the
// spec is detached even when its claim is gone, and a manager restart between a vSphere task and the status
// write neither repeats an attach nor loses a detach. The attach and detach tasks of a round run together as
// one operation beside the reconcile (operations.ts); the reconcile after its end reads the outcome.
import { errorMessage } from '../../runtime/errors.js';
import type { ObservedVM, VMProvider } from '../../providers/interface.js';
import type { EndedOperation, Operations } from './operations.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import { conditionFalse, conditionTrue, type ConditionUpdate } from '../../runtime/status.js';
import type { VM, VolumeStatus } from './types.js';
import { ATTACHED_DISKS_ANNOTATION, recordedDisks, resolveVolume, type VolumeCaches } from './volumes.js';

/** Detaches one operation may issue; more are left to the next (started when it ends). */
export const MAX_DETACHES_PER_RECONCILE = 8;

/** True when every PersistentVolumeClaim volume of the VM is attached. */
export const VOLUMES_READY = 'VirtualMachineVolumesReady';

/** What an attach/detach operation reports: the volumes whose task failed, with why. */
interface VolumeWork {
  failures: Record<string, string>;
}

/** How long after a failed attach or detach it is tried again. */
const VOLUME_RETRY_MS = 10_000;

export class VolumeAttacher {
  constructor(
    private readonly client: KubeClient,
    private readonly provider: VMProvider,
    private readonly caches: VolumeCaches,
    private readonly operations: Operations,
    private readonly event: (...args: Parameters<EventRecorder['record']>) => void,
  ) {}

  /**
   * Attaches the disks of the VM's PersistentVolumeClaim volumes and detaches those of volumes that left the
   * spec: the tasks start as one operation (`started`), whose end queues the VM again; `ended` is the outcome
   * of the last one. The record of attached disks (an annotation) is written before an attach and after a
   * detach. Returns the VM as stored, status.volumes, what is still pending (for the power-on), and the
   * condition.
   */
  async reconcile(
    key: string,
    vm: VM,
    observed: ObservedVM,
    ended?: EndedOperation,
  ): Promise<{
    vm: VM;
    statuses?: VolumeStatus[];
    pending: string[];
    condition?: ConditionUpdate;
    requeueAfterMs?: number;
    started?: boolean;
  }> {
    const ns = vm.metadata.namespace!;
    const specVolumes = (vm.spec?.volumes ?? []).filter((v) => v.persistentVolumeClaim);
    let recorded = recordedDisks(vm.metadata.annotations);
    if (specVolumes.length === 0 && Object.keys(recorded).length === 0) {
      // Nothing to attach or detach (and no vSphere call for the many VMs without volumes).
      return { vm, pending: [], statuses: undefined };
    }
    // The last operation's failures are shown this round and tried again after a pause.
    const failures = ended?.state === 'done' ? (ended.value as VolumeWork).failures : {};
    if (ended?.state === 'failed') failures[''] = errorMessage(ended.error);
    const failed = Object.keys(failures).length > 0;
    // Failures no volume of the spec shows (a detach, the record's write) are pending all the same.
    const unshown = Object.entries(failures).filter(([name]) => !specVolumes.some((v) => v.name === name));
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
    const detaches = stale.slice(0, MAX_DETACHES_PER_RECONCILE);
    const reported = new Map((vm.status?.volumes ?? []).map((v) => [v.name, v]));
    const statuses: VolumeStatus[] = [];
    const pending: string[] = unshown.map(([name, error]) => (name ? `${name}: ${error}` : error));
    const attaches: { name: string; claim: string; diskID: string }[] = [];
    let record = false;
    for (const r of resolved) {
      if (!('diskID' in r)) {
        statuses.push({ name: r.name, type: 'Managed', attached: false, error: r.error });
        pending.push(`${r.name}: ${r.error}`);
        continue;
      }
      const limit = r.limit ? { limit: r.limit } : {};
      const known = recorded[r.name] === r.diskID ? reported.get(r.name) : undefined;
      if (known?.attached) {
        // Attached by this controller and reported so before: no vSphere call, so a reconcile's cost does not
        // grow with the volumes already attached (a label write on a VM with 40 volumes costs nothing here).
        statuses.push({ ...known, ...limit });
        continue;
      }
      if (failures[r.name]) {
        const error = failures[r.name];
        statuses.push({ name: r.name, type: 'Managed', attached: false, error });
        pending.push(`${r.name}: ${error}`);
        continue;
      }
      if (recorded[r.name] !== r.diskID) {
        recorded = { ...recorded, [r.name]: r.diskID };
        record = true;
      }
      const attachment = await this.provider.diskAttachment(observed, r.diskID);
      if (!attachment.attached) {
        attaches.push(r);
        pending.push(`${r.name}: disk ${r.diskID} is not attached yet`);
      }
      statuses.push({
        name: r.name,
        type: 'Managed',
        attached: attachment.attached,
        ...(attachment.diskUUID ? { diskUUID: attachment.diskUUID } : {}),
        ...limit,
      });
    }
    // Recorded before the attach, so a manager that dies during it detaches the disk if the volume goes.
    if (record) vm = await this.record(vm, recorded);
    const condition: ConditionUpdate =
      pending.length === 0
        ? conditionTrue(VOLUMES_READY)
        : conditionFalse(VOLUMES_READY, 'VolumesPending', pending.join('; '));
    const result = { vm, statuses, pending, condition };
    if (failed || (detaches.length === 0 && attaches.length === 0)) {
      return failed || attaches.length > 0 ? { ...result, requeueAfterMs: VOLUME_RETRY_MS } : result;
    }
    const started = this.operations.start(key, 'volumes', describe(detaches, attaches), () =>
      this.run(vm, observed, recorded, detaches, attaches),
    );
    return { ...result, started };
  }

  /** One operation's tasks: the detaches (then the record, once), then the attaches, each with its Event. */
  private async run(
    vm: VM,
    observed: ObservedVM,
    recorded: Record<string, string>,
    detaches: [string, string][],
    attaches: { name: string; claim: string; diskID: string }[],
  ): Promise<VolumeWork> {
    const failures: Record<string, string> = {};
    const detached: string[] = [];
    for (const [name, id] of detaches) {
      try {
        // The provider detaches only a disk that is attached to this VM.
        await this.provider.detachDisk(observed, id);
        detached.push(name);
      } catch (err) {
        failures[name] = `detaching disk ${id} failed: ${errorMessage(err)}`;
        this.event(vm, 'Warning', 'VolumeDetachFailed', `${failures[name]} (volume ${name}); retrying`);
        break;
      }
    }
    if (detached.length > 0) {
      const left = Object.fromEntries(Object.entries(recorded).filter(([name]) => !detached.includes(name)));
      await this.record(vm, left);
      this.event(vm, 'Normal', 'VolumeDetached', `detached the disks of volume(s) ${detached.join(', ')}`);
    }
    for (const a of attaches) {
      try {
        await this.provider.attachDisk(observed, a.diskID);
        this.event(vm, 'Normal', 'VolumeAttached', `attached disk ${a.diskID} of claim ${a.claim} as volume ${a.name}`);
      } catch (err) {
        failures[a.name] = `attaching disk ${a.diskID} failed: ${errorMessage(err)}`;
        this.event(vm, 'Warning', 'VolumeAttachFailed', `${failures[a.name]}; retrying`);
      }
    }
    return { failures };
  }

  /**
   * Detaches every recorded disk that is attached to this VM (before the VM is destroyed, in the destroy's
   * operation), then clears the record with one write.
   */
  async detachAll(vm: VM, observed: ObservedVM): Promise<void> {
    const recorded = recordedDisks(vm.metadata.annotations);
    const names = Object.keys(recorded);
    if (names.length === 0) return;
    for (const id of new Set(Object.values(recorded))) await this.provider.detachDisk(observed, id);
    this.event(vm, 'Normal', 'VolumeDetached', `detached the disks of volume(s) ${names.join(', ')}`);
    await this.record(vm, {});
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

/** An attach/detach operation, for messages. */
function describe(detaches: [string, string][], attaches: { name: string }[]): string {
  const parts = [];
  if (detaches.length > 0) parts.push(`detaching volume(s) ${detaches.map(([name]) => name).join(', ')}`);
  if (attaches.length > 0) parts.push(`attaching volume(s) ${attaches.map((a) => a.name).join(', ')}`);
  return parts.join(' and ');
}
