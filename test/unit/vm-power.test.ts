// The power decisions of the VM controller, one row per (desired, observed, mode, tools) case, the TrySoft
// timeout, restart bookkeeping with RFC3339Nano times, and zone spreading.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decidePower,
  nanos,
  restartDue,
  restartOp,
  type PowerInput,
} from '../../src/controllers/virtualmachine/power.js';
import { chooseZone } from '../../src/controllers/virtualmachine/zone.js';

const base: PowerInput = {
  desired: 'PoweredOn',
  observed: 'PoweredOn',
  powerOffMode: 'TrySoft',
  suspendMode: 'TrySoft',
  toolsRunning: false,
  now: 1_000_000,
  trySoftTimeoutMs: 300_000,
};

describe('power decisions', () => {
  const rows: [string, Partial<PowerInput>, string][] = [
    ['nothing when the VM is as desired', { desired: 'PoweredOff', observed: 'PoweredOff' }, 'none'],
    ['powers on a powered-off VM', { desired: 'PoweredOn', observed: 'PoweredOff' }, 'powerOn'],
    ['resumes a suspended VM with power on', { desired: 'PoweredOn', observed: 'Suspended' }, 'powerOn'],
    ['Hard power off', { desired: 'PoweredOff', powerOffMode: 'Hard' }, 'powerOff'],
    ['Soft power off shuts the guest down', { desired: 'PoweredOff', powerOffMode: 'Soft' }, 'shutdownGuest'],
    ['TrySoft power off without VM Tools is hard', { desired: 'PoweredOff' }, 'powerOff'],
    ['TrySoft power off with VM Tools is soft', { desired: 'PoweredOff', toolsRunning: true }, 'shutdownGuest'],
    [
      'powers off a suspended VM hard whatever the mode',
      { desired: 'PoweredOff', observed: 'Suspended', powerOffMode: 'Soft' },
      'powerOff',
    ],
    ['Hard suspend', { desired: 'Suspended', suspendMode: 'Hard' }, 'suspend'],
    ['Soft suspend puts the guest in standby', { desired: 'Suspended', suspendMode: 'Soft' }, 'standbyGuest'],
    ['TrySoft suspend without VM Tools is hard', { desired: 'Suspended' }, 'suspend'],
    ['TrySoft suspend with VM Tools is soft', { desired: 'Suspended', toolsRunning: true }, 'standbyGuest'],
    ['suspending a powered-off VM powers it on first', { desired: 'Suspended', observed: 'PoweredOff' }, 'powerOn'],
    [
      'TrySoft keeps waiting when VM Tools stop during its soft shutdown',
      { desired: 'PoweredOff', toolsRunning: false, softSince: 1_000_000 - 10_000 },
      'wait',
    ],
    [
      'TrySoft goes hard once the timeout passed, VM Tools or not',
      { desired: 'PoweredOff', toolsRunning: false, softSince: 1_000_000 - 300_000 },
      'powerOff',
    ],
  ];
  for (const [name, input, expected] of rows) {
    it(name, () => {
      const d = decidePower({ ...base, ...input });
      assert.equal(d.kind === 'op' ? d.op : d.kind, expected);
    });
  }

  it('waits while a TrySoft operation is within its timeout, and goes hard after it', () => {
    const soft = { ...base, desired: 'PoweredOff' as const, toolsRunning: true, softSince: base.now - 1_000 };
    const waiting = decidePower(soft);
    assert.equal(waiting.kind, 'wait');
    assert.ok(waiting.kind === 'wait' && waiting.ms > 0 && waiting.ms <= 10_000);
    const late = decidePower({ ...soft, softSince: base.now - 300_000 });
    assert.deepEqual(late.kind === 'op' && [late.op, late.soft, late.reason], ['powerOff', false, 'TrySoft timed out']);
  });

  it('never falls back to hard in Soft mode', () => {
    const d = decidePower({ ...base, desired: 'PoweredOff', powerOffMode: 'Soft', softSince: base.now - 3_600_000 });
    assert.equal(d.kind, 'wait');
  });
});

describe('restart bookkeeping', () => {
  it('is due when nextRestartTime is later than the last restart, to the nanosecond', () => {
    assert.equal(restartDue('2026-11-26T10:00:00.000000002Z', '2026-11-26T10:00:00.000000001Z'), true);
    assert.equal(restartDue('2026-11-26T10:00:00.000000001Z', '2026-11-26T10:00:00.000000001Z'), false);
    assert.equal(restartDue('2026-11-26T09:00:00Z', '2026-11-26T10:00:00Z'), false);
    assert.equal(restartDue('2026-11-26T10:00:00.5Z', undefined), true);
    assert.equal(restartDue(undefined, undefined), false);
    assert.equal(restartDue('not a time', undefined), false);
  });

  it('reads RFC3339Nano times exactly', () => {
    assert.equal(nanos('1970-01-01T00:00:01.000000123Z'), 1_000_000_123n);
    assert.equal(nanos('1970-01-01T00:00:01Z'), 1_000_000_000n);
  });

  it('restarts by mode: Hard resets, Soft reboots the guest, TrySoft depends on VM Tools', () => {
    assert.equal(restartOp('Hard', true), 'reset');
    assert.equal(restartOp('Soft', false), 'rebootGuest');
    assert.equal(restartOp('TrySoft', true), 'rebootGuest');
    assert.equal(restartOp('TrySoft', false), 'reset');
  });
});

describe('zone choice', () => {
  const vm = (zone?: string) => ({
    apiVersion: 'v',
    kind: 'VirtualMachine',
    metadata: { name: 'x', labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} },
    status: { uniqueID: 'vm-1' },
  });
  it('picks the zone with the fewest VMs, counting choices not yet visible', () => {
    assert.equal(chooseZone(['zone-a', 'zone-b'], [vm('zone-a'), vm('zone-a'), vm('zone-b')]), 'zone-b');
    assert.equal(chooseZone(['zone-a', 'zone-b'], [vm('zone-a')], new Map([['zone-b', 2]])), 'zone-a');
    assert.equal(chooseZone(['zone-b', 'zone-a'], []), 'zone-a');
    assert.equal(chooseZone([], [vm('zone-a')]), undefined);
  });

  it('counts only VMs that exist in vSphere, not labels of objects that never deployed', () => {
    const undeployed = (zone: string) => ({
      apiVersion: 'v',
      kind: 'VirtualMachine',
      metadata: { name: 'y', labels: { 'topology.kubernetes.io/zone': zone } },
    });
    const many = Array.from({ length: 21 }, () => undeployed('zone-b'));
    assert.equal(chooseZone(['zone-a', 'zone-b'], [...many, vm('zone-a')]), 'zone-b');
  });

  it('spreads a burst of creates evenly', () => {
    const pending = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const z = chooseZone(['zone-a', 'zone-b'], [], pending)!;
      pending.set(z, (pending.get(z) ?? 0) + 1);
    }
    assert.deepEqual([...pending.entries()].sort(), [
      ['zone-a', 5],
      ['zone-b', 5],
    ]);
  });
});
