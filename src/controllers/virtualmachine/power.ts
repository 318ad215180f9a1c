// What to do about a VM's power state and restart requests, decided from the spec and what vSphere reports.
// Pure functions: the controller calls the provider and remembers when a soft operation started, so a
// TrySoft that does not finish within its timeout falls back to the hard operation on a later reconcile
// (a requeue, never a worker asleep).
import type { PowerOpMode, PowerState } from '../../api/v1alpha6/virtualmachine.js';
import type { PowerOperation, VMPowerState } from '../../providers/interface.js';

export type PowerDecision =
  | { kind: 'none' }
  /** Do `op`; `soft` ones are watched for the TrySoft timeout. */
  | { kind: 'op'; op: PowerOperation; soft: boolean; reason: string }
  /** A soft operation is under way; look again after `ms`. */
  | { kind: 'wait'; ms: number };

export interface PowerInput {
  desired: PowerState;
  observed: VMPowerState;
  powerOffMode: PowerOpMode;
  suspendMode: PowerOpMode;
  toolsRunning: boolean;
  /** When the soft operation towards `desired` was issued, if one was. */
  softSince?: number;
  now: number;
  trySoftTimeoutMs: number;
  /** How often to look again while a Soft (no fallback) operation runs. */
  softPollMs?: number;
}

function modeOp(mode: PowerOpMode, hard: PowerOperation, soft: PowerOperation, i: PowerInput): PowerDecision {
  if (mode === 'Hard') return { kind: 'op', op: hard, soft: false, reason: 'Hard mode' };
  if (mode === 'Soft') {
    if (i.softSince === undefined) return { kind: 'op', op: soft, soft: true, reason: 'Soft mode' };
    return { kind: 'wait', ms: i.softPollMs ?? 10_000 };
  }
  // TrySoft: soft only when VM Tools can carry it out, and hard once the timeout has passed. A soft operation
  // already under way gets its whole timeout even when VM Tools stop meanwhile: a guest that shuts down stops
  // its tools before it powers off.
  if (i.softSince !== undefined) {
    const left = i.softSince + i.trySoftTimeoutMs - i.now;
    if (left <= 0) return { kind: 'op', op: hard, soft: false, reason: 'TrySoft timed out' };
    return { kind: 'wait', ms: Math.min(left, i.softPollMs ?? 10_000) };
  }
  if (!i.toolsRunning) return { kind: 'op', op: hard, soft: false, reason: 'TrySoft without VM Tools running' };
  return { kind: 'op', op: soft, soft: true, reason: 'TrySoft with VM Tools running' };
}

export function decidePower(i: PowerInput): PowerDecision {
  if (i.desired === i.observed) return { kind: 'none' };
  switch (i.desired) {
    case 'PoweredOn':
      // PowerOn also resumes a suspended VM.
      return { kind: 'op', op: 'powerOn', soft: false, reason: `${i.observed} → PoweredOn` };
    case 'PoweredOff':
      // A suspended guest cannot shut itself down.
      if (i.observed === 'Suspended')
        return { kind: 'op', op: 'powerOff', soft: false, reason: 'Suspended → PoweredOff' };
      return modeOp(i.powerOffMode, 'powerOff', 'shutdownGuest', i);
    case 'Suspended':
      // Only a running VM can be suspended: power it on first, suspend it on the next pass.
      if (i.observed === 'PoweredOff')
        return { kind: 'op', op: 'powerOn', soft: false, reason: 'PoweredOff → Suspended' };
      return modeOp(i.suspendMode, 'suspend', 'standbyGuest', i);
  }
}

/** Whether `nextRestartTime` asks for a restart that has not been done (it is later than the last one). */
export function restartDue(nextRestartTime: string | undefined, lastRestartTime: string | undefined): boolean {
  const next = nanos(nextRestartTime);
  if (next === undefined) return false;
  const last = nanos(lastRestartTime);
  return last === undefined || next > last;
}

/** An RFC 3339 time in nanoseconds since the epoch (Date keeps only milliseconds; RFC3339Nano has more). */
export function nanos(time: string | undefined): bigint | undefined {
  if (!time) return undefined;
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return undefined;
  const frac = /\.(\d+)/.exec(time)?.[1] ?? '';
  const subMs = BigInt((frac.slice(3) + '000000').slice(0, 6));
  return BigInt(ms) * 1_000_000n + subMs;
}

/** The operation a restart uses under `restartMode`. */
export function restartOp(mode: PowerOpMode, toolsRunning: boolean): PowerOperation {
  if (mode === 'Hard') return 'reset';
  if (mode === 'Soft') return 'rebootGuest';
  return toolsRunning ? 'rebootGuest' : 'reset';
}
