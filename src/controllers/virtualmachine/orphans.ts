// Orphaned vSphere VMs: VMs that carry vmop's owner keys but whose VirtualMachine object is gone (its
// finalizer was removed by force, or the object was deleted while no manager ran). They run outside every
// quota and view, so after a grace period the collector destroys them, with a warning in the log and a
// metric. A VM whose object exists (read from the API server, not only from this manager's possibly
// label-filtered cache) is never touched, nor is a VM without owner keys.
import { errorMessage } from '../../runtime/errors.js';
import { Counter, type Registry } from 'prom-client';
import { VMGoneError, type ObservedVM, type VMOwner, type VMProvider } from '../../providers/interface.js';
import { API_VERSION } from '../../api/v1alpha6/common.js';
import { apiPath } from '../../runtime/api-path.js';
import { KubeAPIError, type KubeClient } from '../../runtime/kube-client.js';
import type { Logger } from '../../runtime/logger.js';

export interface OrphanCollectorOptions {
  provider: VMProvider;
  client: KubeClient;
  logger: Logger;
  /** How long a VM must stay orphaned before it is destroyed. */
  graceMs: number;
  /** Instance UUIDs of the VM objects this manager knows (those VMs are not orphans). */
  knownInstanceUUIDs: () => Set<string>;
  /** Lookups per sweep (50 by default). */
  maxLookupsPerSweep?: number;
  registry?: Registry;
}

/**
 * At most this many lookups (owner keys from vSphere, the object from the API server) per sweep, so a vCenter
 * full of VMs this manager does not know costs a bounded amount each time.
 */
const MAX_LOOKUPS_PER_SWEEP = 50;
/** How long an object found to exist is not looked up again. */
const EXISTS_RECHECK_MS = 60_000;

export class OrphanCollector {
  /** Owner keys by VM ID (they never change); null for a VM without them, which is never vmop's. */
  private readonly owners = new Map<string, VMOwner | null>();
  /** VM ID → when it was first seen orphaned. */
  private readonly since = new Map<string, number>();
  private readonly destroyed?: Counter;
  private running = false;
  /** Where the next sweep starts, so that a bounded sweep reaches every VM in turn, however many there are. */
  private cursor = 0;
  /** VM ID → until when its object is taken to exist (looked up again after that). */
  private readonly existsUntil = new Map<string, number>();

  constructor(private readonly opts: OrphanCollectorOptions) {
    this.destroyed = opts.registry
      ? new Counter({
          name: 'vmop_orphaned_vms_destroyed_total',
          help: 'vSphere VMs destroyed because the VirtualMachine they were created for is gone.',
          registers: [opts.registry],
        })
      : undefined;
  }

  /** One pass: finds orphans, destroys those orphaned for longer than the grace period. */
  async sweep(now = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.sweepOnce(now);
    } finally {
      this.running = false;
    }
  }

  private async sweepOnce(now: number): Promise<void> {
    const known = this.opts.knownInstanceUUIDs();
    const vms = await this.opts.provider.listVMs();
    const present = new Set(vms.map((v) => v.id));
    for (const id of this.since.keys()) if (!present.has(id)) this.since.delete(id);
    for (const id of this.owners.keys()) if (!present.has(id)) this.owners.delete(id);
    for (const id of this.existsUntil.keys()) if (!present.has(id)) this.existsUntil.delete(id);
    let lookups = 0;
    // From where the last sweep stopped: VMs of objects this manager does not cache (another manager's) cost a
    // lookup each, and the bound must not leave the VMs after the first fifty unvisited for ever.
    const start = vms.length > 0 ? this.cursor % vms.length : 0;
    const ordered = [...vms.slice(start), ...vms.slice(0, start)];
    this.cursor = start;
    for (const vm of ordered) {
      if (known.has(vm.instanceUUID.toLowerCase()) || this.owners.get(vm.id) === null) {
        this.since.delete(vm.id);
        this.cursor++;
        continue;
      }
      if ((this.existsUntil.get(vm.id) ?? 0) > now) {
        this.cursor++;
        continue;
      }
      if (lookups >= (this.opts.maxLookupsPerSweep ?? MAX_LOOKUPS_PER_SWEEP)) break;
      this.cursor++;
      let owner = this.owners.get(vm.id);
      if (owner === undefined) {
        lookups++;
        try {
          owner = (await this.opts.provider.vmOwner(vm)) ?? null;
        } catch (err) {
          if (err instanceof VMGoneError) continue; // destroyed since the cache saw it
          throw err;
        }
        this.owners.set(vm.id, owner);
      }
      if (!owner) continue;
      lookups++;
      if (await this.objectExists(owner)) {
        this.since.delete(vm.id);
        // Its object exists: looked at again after a while, not every sweep (a deletion is noticed within
        // that while, well inside the grace period).
        this.existsUntil.set(vm.id, now + Math.min(EXISTS_RECHECK_MS, this.opts.graceMs / 2));
        continue;
      }
      const first = this.since.get(vm.id) ?? now;
      this.since.set(vm.id, first);
      if (now - first < this.opts.graceMs) continue;
      await this.destroy(vm, owner, now - first).catch((err: unknown) =>
        this.opts.logger.warn(
          { vm: vm.id, err: errorMessage(err) },
          'cannot destroy an orphaned vSphere VM yet; trying again at the next sweep',
        ),
      );
    }
  }

  private async destroy(vm: ObservedVM, owner: VMOwner, orphanedMs: number): Promise<void> {
    // The cache's copy may be stale: destroy what vSphere has now (a hard power-off first if it runs).
    await this.opts.provider.destroyVM(await this.opts.provider.refreshVM(vm));
    this.since.delete(vm.id);
    this.destroyed?.inc();
    this.opts.logger.warn(
      {
        vm: vm.id,
        instanceUUID: vm.instanceUUID,
        namespace: owner.namespace,
        name: owner.name,
        uid: owner.uid,
        orphanedSeconds: Math.round(orphanedMs / 1000),
      },
      'destroyed an orphaned vSphere VM: its VirtualMachine object is gone',
    );
  }

  /** The object the owner keys name exists with that UID. Only a 404 (or another UID) counts as gone. */
  private async objectExists(owner: VMOwner): Promise<boolean> {
    let path;
    try {
      path = apiPath({
        apiVersion: API_VERSION,
        resource: 'virtualmachines',
        namespace: owner.namespace,
        name: owner.name,
      });
    } catch {
      return true; // keys no object could have: not something to destroy on their word
    }
    try {
      const obj = await this.opts.client.request<{ metadata?: { uid?: string } }>('GET', path);
      return obj.metadata?.uid === owner.uid;
    } catch (err) {
      if (err instanceof KubeAPIError && err.notFound) return false;
      throw err;
    }
  }
}
