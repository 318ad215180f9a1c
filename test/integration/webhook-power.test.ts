// The spec's power tables through the real API server: one case per cell of "Transitions" (keyed by the
// observed power state), "Default Power State on Create", and the update table's powerState row.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, testNamespace } from '../support/ground.js';
import { assertAllowed, assertDenied, patchStatus, patchVM, vmObject } from '../support/vm.js';

type Observed = 'PoweredOn' | 'PoweredOff' | 'Suspended';
type Operation = 'power on' | 'power off' | 'suspend' | 'restart';

interface Cell {
  observed: Observed;
  op: Operation;
  /** Extra spec for the VM before the operation (powerOffMode for the conditional cell). */
  spec?: Record<string, unknown>;
  allowed: boolean;
  /** NA cells: the desired state is already the observed one; the write changes nothing and is allowed. */
  na?: boolean;
  field?: string;
  message?: RegExp;
}

const TRANSITIONS: Cell[] = [
  { observed: 'PoweredOn', op: 'power on', allowed: true, na: true },
  { observed: 'PoweredOn', op: 'power off', allowed: true },
  { observed: 'PoweredOn', op: 'suspend', allowed: true },
  { observed: 'PoweredOn', op: 'restart', allowed: true },
  { observed: 'PoweredOff', op: 'power on', allowed: true },
  { observed: 'PoweredOff', op: 'power off', allowed: true, na: true },
  { observed: 'PoweredOff', op: 'suspend', spec: { powerOffMode: 'Hard' }, allowed: true },
  {
    observed: 'PoweredOff',
    op: 'suspend',
    spec: { powerOffMode: 'TrySoft' },
    allowed: false,
    field: 'spec.powerState',
    message: /cannot suspend a VM that is powered off unless spec.powerOffMode is Hard/,
  },
  {
    observed: 'PoweredOff',
    op: 'suspend',
    spec: { powerOffMode: 'Soft' },
    allowed: false,
    field: 'spec.powerState',
    message: /cannot suspend a VM that is powered off unless spec.powerOffMode is Hard/,
  },
  {
    observed: 'PoweredOff',
    op: 'restart',
    allowed: false,
    field: 'spec.nextRestartTime',
    message: /cannot restart a VM/,
  },
  { observed: 'Suspended', op: 'power on', allowed: true },
  {
    observed: 'Suspended',
    op: 'power off',
    allowed: false,
    field: 'spec.powerState',
    message: /cannot power off a VM that is suspended/,
  },
  { observed: 'Suspended', op: 'suspend', allowed: true, na: true },
  {
    observed: 'Suspended',
    op: 'restart',
    allowed: false,
    field: 'spec.nextRestartTime',
    message: /cannot restart a VM/,
  },
];

const DESIRED: Record<Exclude<Operation, 'restart'>, Observed> = {
  'power on': 'PoweredOn',
  'power off': 'PoweredOff',
  suspend: 'Suspended',
};

describe('power state transitions (spec table, keyed by the observed state)', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('power');
  });
  after(() => c.close());

  TRANSITIONS.forEach((cell, i) => {
    const mode = cell.spec?.powerOffMode ? ` with powerOffMode ${String(cell.spec.powerOffMode)}` : '';
    const verdict = cell.na ? 'NA (allowed, no change)' : cell.allowed ? 'allowed' : 'denied';
    it(`${cell.op} of a ${cell.observed} VM${mode}: ${verdict}`, async () => {
      const name = `cell-${i}`;
      // The VM's desired state matches what it is observed to be, as after a finished reconcile.
      const initial = cell.observed === 'Suspended' ? 'PoweredOn' : cell.observed;
      await c.create(vmObject(ns, name, { powerState: initial, ...cell.spec }));
      if (cell.observed === 'Suspended') {
        await patchStatus(c, ns, name, { powerState: 'PoweredOn' });
        await patchVM(c, ns, name, { spec: { powerState: 'Suspended' } });
      }
      await patchStatus(c, ns, name, { powerState: cell.observed });
      const write =
        cell.op === 'restart'
          ? patchVM(c, ns, name, { spec: { nextRestartTime: 'now' } })
          : patchVM(c, ns, name, { spec: { powerState: DESIRED[cell.op] } });
      if (cell.allowed) {
        const vm = await assertAllowed(write);
        const spec = vm.spec as Record<string, unknown>;
        if (cell.op === 'restart') assert.match(String(spec.nextRestartTime), /^\d{4}-/);
        else assert.equal(spec.powerState, DESIRED[cell.op]);
      } else {
        await assertDenied(write, cell.field ?? '', cell.message ?? /./);
      }
    });
  });

  it('denies Suspended on create', async () => {
    await assertDenied(
      c.create(vmObject(ns, 'create-suspended', { powerState: 'Suspended' })),
      'spec.powerState',
      /cannot set a new VM's power state to Suspended/,
    );
  });

  for (const state of ['PoweredOn', 'PoweredOff']) {
    it(`allows ${state} on create`, async () => {
      const vm = await assertAllowed(c.create(vmObject(ns, `create-${state.toLowerCase()}`, { powerState: state })));
      assert.equal((vm.spec as Record<string, unknown>).powerState, state);
    });
  }

  it('defaults an omitted power state to PoweredOn on create', async () => {
    const vm = await c.create(vmObject(ns, 'create-default'));
    assert.equal((vm.spec as Record<string, unknown>).powerState, 'PoweredOn');
  });

  it('denies an empty power state on update', async () => {
    await c.create(vmObject(ns, 'empty-update'));
    await assertDenied(
      patchVM(c, ns, 'empty-update', { spec: { powerState: null } }),
      'spec.powerState',
      /cannot set power state to empty string/,
    );
  });

  it('denies a guestID change while the VM is powered on, allows it while powered off', async () => {
    await c.create(vmObject(ns, 'guestid', { guestID: 'ubuntu64Guest' }));
    await patchStatus(c, ns, 'guestid', { powerState: 'PoweredOn' });
    await assertDenied(
      patchVM(c, ns, 'guestid', { spec: { guestID: 'vmwarePhoton64Guest' } }),
      'spec.guestID',
      /updates to this field is not allowed when VM power is on/,
    );
    await patchVM(c, ns, 'guestid', { spec: { powerState: 'PoweredOff' } });
    await patchStatus(c, ns, 'guestid', { powerState: 'PoweredOff' });
    await assertAllowed(patchVM(c, ns, 'guestid', { spec: { guestID: 'vmwarePhoton64Guest' } }));
  });
});
