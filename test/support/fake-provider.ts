// A VM provider in memory, for running the VM controller in-process against the real API server where
// vcsim cannot play the part (guests that ignore a soft shutdown, operations that block).
import type {
  ObservedVM,
  PowerOperation,
  VMCreateRequest,
  VMOwner,
  VMProvider,
} from '../../src/providers/interface.js';

/**
 * VMs in memory: guests with VM Tools running that never shut themselves down (a soft power-off is ignored),
 * every call on a VM counted, and optional hooks that run (and may block) before each create and power operation.
 */
export class InMemoryVMs implements VMProvider {
  /** Runs before each power operation; a test can make it wait. */
  beforePower?: (vm: ObservedVM, op: PowerOperation) => Promise<void>;
  /** Runs before each create (a deploy that takes its time); a test can make it wait. */
  beforeCreate?: (req: VMCreateRequest) => Promise<void>;
  /** Creates started, by VM name (a second one for the same VM would be a duplicate). */
  readonly creates: string[] = [];
  readonly vms = new Map<string, ObservedVM>();
  readonly owners = new Map<string, VMOwner>();
  readonly ops: { op: PowerOperation; at: number }[] = [];
  private readonly listeners: ((change: { id: string; instanceUUID?: string }) => void)[] = [];

  async zones() {
    return ['zone-a'];
  }
  async guestIDs() {
    return new Set<string>();
  }
  async findVM(instanceUUID: string) {
    const found = this.vms.get(instanceUUID);
    return found && { ...found };
  }
  async checkCreate() {}
  async createVM(req: VMCreateRequest) {
    this.creates.push(req.name);
    await this.beforeCreate?.(req);
    const observed: ObservedVM = {
      id: `vm-${this.vms.size + 1}`,
      name: req.name,
      instanceUUID: req.instanceUUID,
      biosUUID: req.biosUUID,
      powerState: 'PoweredOff',
      host: 'esx-1',
      zone: req.zone,
      hardwareVersion: 19,
      toolsRunning: true,
    };
    this.vms.set(req.instanceUUID, observed);
    this.owners.set(observed.id, { namespace: req.namespace, name: req.name, uid: req.uid });
    return { ...observed };
  }
  async refreshVM(target: ObservedVM) {
    return { ...this.vms.get(target.instanceUUID)! };
  }
  async power(target: ObservedVM, op: PowerOperation) {
    await this.beforePower?.(target, op);
    this.ops.push({ op, at: Date.now() });
    const vm = this.vms.get(target.instanceUUID)!;
    if (op === 'powerOn') vm.powerState = 'PoweredOn';
    if (op === 'powerOff') vm.powerState = 'PoweredOff';
    // shutdownGuest: the guest ignores it.
    for (const l of this.listeners) l({ id: vm.id, instanceUUID: vm.instanceUUID });
  }
  async vmOwner(target: ObservedVM) {
    return this.owners.get(target.id);
  }
  async listVMs() {
    return [...this.vms.values()];
  }
  async destroyVM(target: ObservedVM) {
    this.vms.delete(target.instanceUUID);
  }
  watchVMs(onChange: (change: { id: string; instanceUUID?: string }) => void) {
    this.listeners.push(onChange);
  }
  // These VMs have no volumes.
  async disk() {
    return undefined;
  }
  async diskAttachment() {
    return { attached: false };
  }
  async attachDisk() {
    throw new Error('no disks here');
  }
  async detachDisk() {}
  async nicMACs() {
    return [];
  }
  async writeCloudInit() {}
  async customizeGuest() {}
  async guestNICs() {
    return [];
  }
  async guestInfo() {
    return {};
  }
  async vAppProperties() {
    return [];
  }
  async setVAppProperties() {}
  async setGuestID() {}
  async bootDiskCapacity() {
    return undefined;
  }
  async growBootDisk() {}
  async upgradeHardware() {}
  async relocateVM() {}
  async isoPath(): Promise<string> {
    throw new Error('no ISO images here');
  }
  async cdroms() {
    return [];
  }
  async setCdroms() {}
}
