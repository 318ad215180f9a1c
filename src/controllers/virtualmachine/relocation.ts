// The zone label changed on a deployed VM (the spec's update table allows it): the VM moves to the new zone's
// cluster — RelocateVM_Task onto a host there, live when it runs — as an operation beside the reconcile, with
// status.zone and status.nodeName following from the change feed and an Event. (VM Operator accepts the change and
// leaves the VM where it is.) Condition VirtualMachineConditionPlacementReady says a move is under way, done,
// or why it cannot be made; VMs whose label never changed carry none.
import { ZONE_LABEL } from '../../api/v1alpha6/virtualmachine.js';
import type { ObservedVM, VMProvider } from '../../providers/interface.js';
import { errorMessage, UserInputError } from '../../runtime/errors.js';
import type { EventRecorder } from '../../runtime/events.js';
import { conditionFalse, conditionTrue, type ConditionUpdate } from '../../runtime/status.js';
import type { EndedOperation, Operations } from './operations.js';
import type { VM } from './types.js';

/** VM Operator's placement condition. */
export const PLACEMENT_READY = 'VirtualMachineConditionPlacementReady';

export class Relocation {
  /** The zone vSphere last refused to move each VM to (tried again when the label names another). */
  private readonly refused = new Map<string, string>();

  constructor(
    private readonly opts: {
      provider: VMProvider;
      operations: Operations;
      event: (...args: Parameters<EventRecorder['record']>) => void;
    },
  ) {}

  forget(key: string): void {
    this.refused.delete(key);
  }

  /** The end of a move: the condition, and for a failure the error the reconcile retries with. */
  finish(key: string, vm: VM, ended: EndedOperation): { condition: ConditionUpdate; error?: unknown } {
    if (ended.state === 'done') {
      this.opts.event(vm, 'Normal', 'Relocated', `${ended.what}: done`);
      return { condition: conditionTrue(PLACEMENT_READY) };
    }
    const input = ended.error instanceof UserInputError;
    const message = `${ended.what} failed: ${errorMessage(ended.error)}${input ? '' : '; retrying'}`;
    this.opts.event(vm, 'Warning', 'RelocateFailed', message);
    const reason = input ? (ended.error as UserInputError).reason : 'RelocateFailed';
    if (input) this.refused.set(key, String(ended.info));
    // vSphere's refusal is shown until the label changes again; anything else is retried with backoff.
    return { condition: conditionFalse(PLACEMENT_READY, reason, message), ...(input ? {} : { error: ended.error }) };
  }

  /**
   * Starts the move when the label names another zone than the VM's (`started`), or says why it cannot start.
   * Nothing for a VM in its labelled zone, or one vSphere last refused to move to that zone.
   */
  async reconcile(
    key: string,
    vm: VM,
    observed: ObservedVM,
  ): Promise<{ condition?: ConditionUpdate; started?: boolean }> {
    const wanted = (vm.metadata.labels as Record<string, string> | undefined)?.[ZONE_LABEL];
    if (!wanted || !observed.zone || wanted === observed.zone) return {};
    if (this.refused.get(key) === wanted) return {};
    this.refused.delete(key);
    if (!(await this.opts.provider.zones()).includes(wanted)) {
      return {
        condition: conditionFalse(
          PLACEMENT_READY,
          'ZoneNotFound',
          `label ${ZONE_LABEL} names zone "${wanted}", which is not configured; the VM stays in zone ${observed.zone}`,
        ),
      };
    }
    const what = `moving the VM from zone ${observed.zone} to zone ${wanted}`;
    const started = this.opts.operations.start(
      key,
      'relocate',
      what,
      () => this.opts.provider.relocateVM(observed, wanted),
      wanted,
    );
    if (started) this.opts.event(vm, 'Normal', 'Relocating', what);
    return { condition: conditionFalse(PLACEMENT_READY, 'Relocating', what), started };
  }
}
