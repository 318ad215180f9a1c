// Whose vSphere VM is this? A VM is found by spec.instanceUUID, which a privileged user can set to any value;
// before the controller acts on a found VM (above all, before destroying it) the owner keys the provider
// wrote into the VM at create must name this very object (its UID). A VM verified once stays verified for
// the process's lifetime (the keys never change), so a steady reconcile costs no extra vSphere call.
import type { ObservedVM, VMOwner, VMProvider } from '../../providers/interface.js';

/** Why the found VM is not this object's, or undefined when it is. Pure. */
export function ownerMismatch(
  object: { namespace: string; name: string; uid: string },
  vmID: string,
  owner: VMOwner | undefined,
): string | undefined {
  if (!owner) {
    return `vSphere VM ${vmID} has this VM's instance UUID but was not created by vmop for it (it carries no owner keys); vmop leaves it alone`;
  }
  if (owner.uid === object.uid) return undefined;
  return (
    `vSphere VM ${vmID} has this VM's instance UUID but belongs to VirtualMachine ${owner.namespace}/${owner.name} ` +
    `(uid ${owner.uid}); vmop leaves it alone: give this VM another spec.instanceUUID`
  );
}

export class OwnershipCheck {
  /** Object key → "vm-id/uid" already verified. */
  private readonly verified = new Map<string, string>();

  constructor(private readonly provider: VMProvider) {}

  /** Why `observed` is not the VM of this object (reads the owner keys unless verified before), or undefined. */
  async mismatch(
    key: string,
    object: { namespace: string; name: string; uid: string },
    observed: ObservedVM,
  ): Promise<string | undefined> {
    const stamp = `${observed.id}/${object.uid}`;
    if (this.verified.get(key) === stamp) return undefined;
    const why = ownerMismatch(object, observed.id, await this.provider.vmOwner(observed));
    if (!why) this.verified.set(key, stamp);
    return why;
  }

  /** Records that the controller itself just created `observed` for the object. */
  created(key: string, uid: string, observed: ObservedVM): void {
    this.verified.set(key, `${observed.id}/${uid}`);
  }

  forget(key: string): void {
    this.verified.delete(key);
  }
}
