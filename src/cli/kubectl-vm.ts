// `kubectl vm` (the kubectl-vm executable the package installs): power a VirtualMachine on, off, into suspend
// or through a restart, print its IP, wait for it, and tell why it is not Ready in one view. It speaks to the
// API server with the user's own kubeconfig and rights (KUBECONFIG, --kubeconfig, --context, -n), as kubectl
// does, writes kubectl-like lines, and exits 0 on success, 1 on an error, 2 on wrong usage.
import { parseArgs } from 'node:util';
import { API_VERSION } from '../api/v1alpha6/common.js';
import { apiPath } from '../runtime/api-path.js';
import { errorMessage } from '../runtime/errors.js';
import { KubeAPIError, KubeClient, type KubeObject } from '../runtime/kube-client.js';
import { loadKubeConfig } from '../runtime/manager.js';
import { readProviderConfig } from './provider-config.js';
import { parseDuration } from './args.js';

const USAGE = `kubectl vm — VirtualMachines (vmoperator.vmware.com) from kubectl

Usage:
  kubectl vm start NAME [--wait]                       power on
  kubectl vm stop NAME [--mode Hard|Soft|TrySoft] [--wait]      power off
  kubectl vm suspend NAME [--mode Hard|Soft|TrySoft] [--wait]   suspend
  kubectl vm restart NAME [--mode Hard|Soft|TrySoft] [--wait]   restart (nextRestartTime: now)
  kubectl vm ip NAME                                   the primary IP address (IPv4, else IPv6)
  kubectl vm wait NAME --for ready|powered-on          until the VM is Ready, or powered on
  kubectl vm describe NAME                             why the VM is (not) Ready: status, conditions, Events,
                                                       and its recent vSphere tasks (when you may read the
                                                       operator's vCenter connection)

Flags: -n/--namespace NS, --kubeconfig FILE, --context NAME, --timeout 5m (for --wait and wait),
       --operator-namespace NS (where vmop runs, for describe; vmop-system), -h/--help.`;

type VM = KubeObject & {
  spec?: Record<string, unknown>;
  status?: {
    powerState?: string;
    lastRestartTime?: string;
    uniqueID?: string;
    zone?: string;
    nodeName?: string;
    network?: { primaryIP4?: string; primaryIP6?: string };
    conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
  };
};

class UsageError extends Error {}

const RESOURCE = 'virtualmachine.vmoperator.vmware.com';

/** Runs `kubectl vm ARGS`; resolves with the exit code. */
export async function kubectlVM(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        namespace: { type: 'string', short: 'n' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        mode: { type: 'string' },
        wait: { type: 'boolean' },
        for: { type: 'string' },
        timeout: { type: 'string' },
        'operator-namespace': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    err.write(`error: ${errorMessage(e)}\nSee 'kubectl vm --help'.\n`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const [command, name, ...rest] = positionals;
  if (flags.help || !command) {
    out.write(`${USAGE}\n`);
    return flags.help ? 0 : 2;
  }
  try {
    if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    if (!name) throw new UsageError(`kubectl vm ${command} needs a VM name`);
    if (flags.mode !== undefined && !['Hard', 'Soft', 'TrySoft'].includes(flags.mode)) {
      throw new UsageError(`--mode must be Hard, Soft or TrySoft (got "${flags.mode}")`);
    }
    const timeoutMs = parseDuration(flags.timeout ?? '5m', 'timeout');
    const kc = loadKubeConfig(flags.kubeconfig, flags.context);
    const namespace = flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    const client = new KubeClient(kc);
    try {
      const vm = new VMCommands(client, namespace, name, timeoutMs, out, flags['operator-namespace'] ?? 'vmop-system');
      switch (command) {
        case 'start':
          return await vm.power('PoweredOn', undefined, flags.wait);
        case 'stop':
          return await vm.power('PoweredOff', flags.mode, flags.wait);
        case 'suspend':
          return await vm.power('Suspended', flags.mode, flags.wait);
        case 'restart':
          return await vm.restart(flags.mode, flags.wait);
        case 'ip':
          return await vm.ip();
        case 'wait':
          if (flags.for !== 'ready' && flags.for !== 'powered-on') {
            throw new UsageError('kubectl vm wait needs --for ready or --for powered-on');
          }
          return await vm.wait(flags.for);
        case 'describe':
          return await vm.describe();
        default:
          throw new UsageError(`unknown command "${command}"`);
      }
    } finally {
      client.close();
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`error: ${e.message}\nSee 'kubectl vm --help'.\n`);
      return 2;
    }
    if (e instanceof KubeAPIError && e.notFound) {
      err.write(`Error from server (NotFound): virtualmachines.vmoperator.vmware.com "${name}" not found\n`);
      return 1;
    }
    err.write(`error: ${errorMessage(e)}\n`);
    return 1;
  }
}

class VMCommands {
  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
    private readonly timeoutMs: number,
    private readonly out: NodeJS.WritableStream,
    private readonly operatorNamespace: string,
  ) {}

  private get(): Promise<VM> {
    return this.client.get<VM>(API_VERSION, 'VirtualMachine', this.name, this.namespace);
  }

  private patch(spec: Record<string, unknown>): Promise<VM> {
    const path = apiPath({
      apiVersion: API_VERSION,
      resource: 'virtualmachines',
      namespace: this.namespace,
      name: this.name,
    });
    return this.client.request<VM>('PATCH', path, { contentType: 'application/merge-patch+json', body: { spec } });
  }

  /** Polls the VM until `done` says so; a timeout is an error that says what was waited for. */
  private async until(what: string, done: (vm: VM) => boolean): Promise<VM> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const vm = await this.get();
      if (done(vm)) return vm;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${this.timeoutMs / 1000}s waiting for ${RESOURCE}/${this.name} to be ${what}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async power(state: string, mode: string | undefined, wait?: boolean): Promise<number> {
    const modeField = state === 'PoweredOff' ? 'powerOffMode' : state === 'Suspended' ? 'suspendMode' : undefined;
    await this.patch({ powerState: state, ...(mode && modeField ? { [modeField]: mode } : {}) });
    const verb = { PoweredOn: 'started', PoweredOff: 'stopped', Suspended: 'suspended' }[state];
    if (wait) await this.until(state, (vm) => vm.status?.powerState === state);
    this.out.write(`${RESOURCE}/${this.name} ${verb}\n`);
    return 0;
  }

  async restart(mode: string | undefined, wait?: boolean): Promise<number> {
    const patched = await this.patch({ nextRestartTime: 'now', ...(mode ? { restartMode: mode } : {}) });
    const requested = String(patched.spec?.nextRestartTime ?? '');
    if (wait) await this.until('restarted', (vm) => vm.status?.lastRestartTime === requested);
    this.out.write(`${RESOURCE}/${this.name} restarted\n`);
    return 0;
  }

  async ip(): Promise<number> {
    const vm = await this.get();
    const ip = vm.status?.network?.primaryIP4 || vm.status?.network?.primaryIP6;
    if (!ip) throw new Error(`${RESOURCE}/${this.name} has no IP address yet (VM Tools report none)`);
    this.out.write(`${ip}\n`);
    return 0;
  }

  async wait(what: 'ready' | 'powered-on'): Promise<number> {
    await this.until(what === 'ready' ? 'Ready' : 'PoweredOn', (vm) =>
      what === 'ready'
        ? vm.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
        : vm.status?.powerState === 'PoweredOn',
    );
    this.out.write(`${RESOURCE}/${this.name} condition met\n`);
    return 0;
  }

  async describe(): Promise<number> {
    const vm = await this.get();
    const s = vm.status ?? {};
    const spec = vm.spec ?? {};
    const lines = [
      `Name:          ${this.name}`,
      `Namespace:     ${this.namespace}`,
      `Power State:   ${s.powerState ?? '(not reported)'} (desired ${String(spec.powerState ?? 'PoweredOn')})`,
      `vSphere VM:    ${s.uniqueID ?? '(not created)'}${s.nodeName ? ` on ${s.nodeName}` : ''}${s.zone ? ` in zone ${s.zone}` : ''}`,
      `IP:            ${s.network?.primaryIP4 || s.network?.primaryIP6 || '(none)'}`,
      '',
      'Conditions:',
      table(
        ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
        (s.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? '', age(c.lastTransitionTime), c.message ?? '']),
      ),
    ];
    // What is not True, first: the reasons the VM is not Ready.
    const blocking = (s.conditions ?? []).filter((c) => c.status !== 'True');
    if (blocking.length > 0) {
      lines.push('', 'Not ready because:', ...blocking.map((c) => `  ${c.type}: ${c.message || c.reason || c.status}`));
    }
    const events = await this.client.request<{
      items: {
        type?: string;
        reason?: string;
        message?: string;
        count?: number;
        lastTimestamp?: string;
        eventTime?: string;
      }[];
    }>('GET', apiPath({ apiVersion: 'v1', resource: 'events', namespace: this.namespace }), {
      query: { fieldSelector: `involvedObject.name=${this.name},involvedObject.kind=VirtualMachine` },
    });
    const recent = events.items
      .sort((a, b) => String(a.lastTimestamp ?? a.eventTime).localeCompare(String(b.lastTimestamp ?? b.eventTime)))
      .slice(-15);
    lines.push(
      '',
      'Events:',
      recent.length === 0
        ? '  <none>'
        : table(
            ['TYPE', 'REASON', 'AGE', 'COUNT', 'MESSAGE'],
            recent.map((e) => [
              e.type ?? '',
              e.reason ?? '',
              age(e.lastTimestamp ?? e.eventTime),
              String(e.count ?? 1),
              e.message ?? '',
            ]),
          ),
    );
    lines.push('', 'vSphere Tasks:', await this.vSphereTasks(s.uniqueID));
    this.out.write(`${lines.join('\n')}\n`);
    return 0;
  }

  /**
   * The VM's recent vSphere tasks through the operator's own vCenter connection, when the user may read it (an
   * administrator); otherwise a line that says why they are not shown and where else to look.
   */
  private async vSphereTasks(vmID: string | undefined): Promise<string> {
    if (!vmID) return '  <none: there is no vSphere VM yet>';
    let read;
    try {
      read = await readProviderConfig(this.client, this.operatorNamespace);
    } catch (e) {
      if (e instanceof KubeAPIError && e.statusCode === 403) {
        return (
          `  not shown: they are read with vmop's vCenter connection (namespace ${this.operatorNamespace}), which ` +
          'you may not read.\n  An administrator can run this command; the manager logs each vSphere operation ' +
          `with the VM's namespace and name.`
        );
      }
      return `  not shown: ${errorMessage(e)}`;
    }
    // Loaded here: the other commands never talk to vSphere and need not load its client.
    const { VSphereSession } = await import('../providers/vsphere/session.js');
    const { vmTasks } = await import('../providers/vsphere/task-history.js');
    const session = new VSphereSession();
    try {
      const tasks = await vmTasks(await session.connect(read.config, read.credentials), vmID);
      if (tasks.length === 0) return '  <none>';
      return table(
        ['OPERATION', 'STATE', 'AGE', 'DURATION', 'USER', 'ERROR'],
        tasks.map((t) => [
          t.operation,
          t.state,
          age(t.queued),
          t.seconds === undefined ? '' : `${t.seconds.toFixed(1)}s`,
          t.user ?? '',
          t.error ?? '',
        ]),
      );
    } catch (e) {
      return `  not shown: vCenter ${read.config.vcenter} did not answer: ${errorMessage(e)}`;
    } finally {
      await session.close();
    }
  }
}

function age(time: string | undefined): string {
  if (!time) return '<unknown>';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(time)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '  <none>';
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('   ')}`;
  return [line(head), ...rows.map(line)].join('\n');
}
