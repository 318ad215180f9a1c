// spec.readinessProbe, as VM Operator's prober does it: every periodSeconds (10 by default) a VM's probe runs —
// a TCP connection to its IP (or host) and port, its guest heartbeat against a threshold, or guestinfo keys
// against regular expressions — and the outcome is the VM's Ready condition (Ready, NotReady or Unknown, with
// why); a VM that is not powered on is NotReady without a probe. Probes run on timers beside the work queue,
// never in a worker; a probe's outcome that differs from the last one queues the VM, whose reconcile writes it
// with the rest of the status, and records an Event (Ready, or the reason and message).
import net from 'node:net';
import type { ObservedVM, VMProvider } from '../../providers/interface.js';
import { errorMessage } from '../../runtime/errors.js';
import type { EventRecorder } from '../../runtime/events.js';
import { conditionFalse, conditionTrue, type ConditionUpdate } from '../../runtime/status.js';
import { CONDITIONS } from './dependencies.js';
import type { VM } from './types.js';
import { withTimeout } from '../../runtime/timeout.js';

const DEFAULT_PERIOD_S = 10;
const DEFAULT_TIMEOUT_S = 10;

type Probe = NonNullable<NonNullable<VM['spec']>['readinessProbe']>;

/** A probe's outcome, as the Ready condition shows it. */
interface Outcome {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

const ready: Outcome = { status: 'True', reason: 'Ready', message: '' };
const notReady = (message: string): Outcome => ({ status: 'False', reason: 'NotReady', message });
const unknown = (message: string): Outcome => ({ status: 'Unknown', reason: 'Unknown', message });

/** The heartbeat statuses in order (VM Operator ranks red and gray alike, below yellow). */
const HEARTBEAT_RANK: Record<string, number> = { green: 1, yellow: 0 };

export class ReadinessProber {
  private readonly probes = new Map<string, { timer: NodeJS.Timeout; spec: string; outcome?: Outcome }>();
  private stopped = false;

  constructor(
    private readonly opts: {
      provider: VMProvider;
      /** The VM as cached now, and what vSphere last reported of it (the provider's cache). */
      current: (key: string) => Promise<{ vm: VM; observed?: ObservedVM } | undefined>;
      /** Queues the VM (its outcome changed). */
      wake: (key: string) => void;
      event: (...args: Parameters<EventRecorder['record']>) => void;
    },
  ) {}

  /**
   * The Ready condition of a VM with a readiness probe (the probe's last outcome; a VM not powered on is not
   * ready), and the probing kept in step with the spec; undefined for a VM without one (its probing stops).
   */
  condition(key: string, vm: VM, observed: ObservedVM): ConditionUpdate | undefined {
    const probe = vm.spec?.readinessProbe;
    if (!probe || !hasAction(probe)) {
      this.forget(key);
      return undefined;
    }
    const spec = JSON.stringify(probe);
    let entry = this.probes.get(key);
    if (!entry || entry.spec !== spec) {
      this.forget(key);
      entry = { timer: this.schedule(key, 0), spec };
      this.probes.set(key, entry);
    }
    if (observed.powerState !== 'PoweredOn') return toCondition(notReady('virtual machine is not powered on'));
    return toCondition(entry.outcome ?? unknown('waiting for the first readiness probe'));
  }

  forget(key: string): void {
    const entry = this.probes.get(key);
    if (entry) clearTimeout(entry.timer);
    this.probes.delete(key);
  }

  stop(): void {
    this.stopped = true;
    for (const key of [...this.probes.keys()]) this.forget(key);
  }

  private schedule(key: string, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => void this.tick(key), ms);
    timer.unref();
    return timer;
  }

  private async tick(key: string): Promise<void> {
    const entry = this.probes.get(key);
    if (!entry || this.stopped) return;
    const now = await this.opts.current(key).catch(() => undefined);
    const probe = now?.vm.spec?.readinessProbe;
    if (!now || !probe || !hasAction(probe)) {
      this.forget(key);
      return;
    }
    const outcome =
      now.observed?.powerState === 'PoweredOn'
        ? await this.run(now.vm, now.observed, probe).catch((err: unknown) => unknown(errorMessage(err)))
        : notReady('virtual machine is not powered on');
    // The VM may have been forgotten, or its probe changed, while this one ran.
    if (this.probes.get(key) !== entry) return;
    const before = entry.outcome;
    entry.outcome = outcome;
    if (!before || before.status !== outcome.status || before.message !== outcome.message) {
      if (before?.status !== outcome.status) {
        if (outcome.status === 'True') this.opts.event(now.vm, 'Normal', 'Ready', 'the readiness probe succeeded');
        else this.opts.event(now.vm, 'Warning', outcome.reason, outcome.message || outcome.reason);
      }
      this.opts.wake(key);
    }
    entry.timer = this.schedule(key, (probe.periodSeconds ?? DEFAULT_PERIOD_S) * 1000);
  }

  private async run(vm: VM, observed: ObservedVM, probe: Probe): Promise<Outcome> {
    const timeoutMs = (probe.timeoutSeconds ?? DEFAULT_TIMEOUT_S) * 1000;
    if (probe.tcpSocket) {
      const port = probe.tcpSocket.port;
      if (typeof port !== 'number') return notReady(`port ${String(port)}: only port numbers can be probed`);
      const host = probe.tcpSocket.host || vm.status?.network?.primaryIP4 || vm.status?.network?.primaryIP6;
      if (!host) return notReady(`VM ${vm.metadata.namespace}/${vm.metadata.name} doesn't have an IP assigned`);
      return connect(host, port, timeoutMs);
    }
    if (probe.guestHeartbeat) {
      const heartbeat = observed.guestHeartbeat;
      if (!heartbeat) return unknown('no heartbeat value');
      const threshold = probe.guestHeartbeat.thresholdStatus ?? 'green';
      return (HEARTBEAT_RANK[heartbeat] ?? -1) < (HEARTBEAT_RANK[threshold] ?? 1)
        ? notReady(`heartbeat status "${heartbeat}" is below threshold`)
        : ready;
    }
    const keys = probe.guestInfo ?? [];
    const values = await withTimeout(
      this.opts.provider.guestInfo(
        observed,
        keys.map((k) => k.key),
      ),
      timeoutMs,
      'reading the guestinfo keys from vSphere',
    );
    for (const { key, value } of keys) {
      const got = values[key];
      if (got === undefined) return notReady(`guestinfo.${key} is not set`);
      if (!value) continue;
      let pattern: RegExp;
      try {
        pattern = new RegExp(value);
      } catch {
        continue; // as VM Operator: an expression that does not compile matches anything
      }
      if (!pattern.test(got)) return notReady(`guestinfo.${key} is "${got}", which does not match ${value}`);
    }
    return ready;
  }
}

function hasAction(p: Probe): boolean {
  return !!(p.tcpSocket || p.guestHeartbeat || (p.guestInfo?.length ?? 0) > 0);
}

function toCondition(o: Outcome): ConditionUpdate {
  if (o.status === 'True') return conditionTrue(CONDITIONS.ready);
  if (o.status === 'False') return conditionFalse(CONDITIONS.ready, o.reason, o.message);
  return { type: CONDITIONS.ready, status: 'Unknown', reason: o.reason, message: o.message };
}

function connect(host: string, port: number, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (o: Outcome) => {
      socket.destroy();
      resolve(o);
    };
    socket.setTimeout(timeoutMs, () => done(notReady(`dial tcp ${host}:${port}: i/o timeout`)));
    socket.once('connect', () => done(ready));
    socket.once('error', (err) => done(notReady(`dial tcp ${host}:${port}: ${err.message}`)));
  });
}
