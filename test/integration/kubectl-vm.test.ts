// `kubectl vm` as a user runs it: kubectl finds the kubectl-vm executable on PATH, and the plugin powers a VM of
// the test run off and on (waiting for it), restarts it, waits for it, describes it (conditions, Events, and its
// vSphere tasks for an admin, with a failed one's fault; a tenant is told why they are not shown),
// says when it has no IP, and answers wrong usage and unknown VMs as kubectl does (exit codes 2 and 1).
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../src/devenv/toolchain.js';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, govc, kubectl } from '../support/ground.js';
import { getVM, vm, vmName, vmNamespace, waitForPower } from '../support/vms.js';

describe('kubectl vm', () => {
  let c: KubeClient;
  let ns: string;
  let plugins: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('kvm');
    plugins = await mkdtemp(path.join(os.tmpdir(), 'vmop-plugins-'));
    await symlink(path.join(repoRoot(), 'bin', 'kubectl-vm.js'), path.join(plugins, 'kubectl-vm'));
  });
  after(async () => {
    c.close();
    await rm(plugins, { recursive: true, force: true });
  });
  const kvm = (...args: string[]) => kubectl(['vm', ...args, '-n', ns], { path: plugins });

  it('stops, starts and restarts a VM, waiting for each, and waits for Ready', async () => {
    const name = vmName('kvm');
    await c.create(vm(ns, name));
    const ready = await kvm('wait', name, '--for', 'ready', '--timeout', '60s');
    assert.equal(ready.code, 0, ready.stderr);
    assert.equal(ready.stdout, `virtualmachine.vmoperator.vmware.com/${name} condition met\n`);

    const stop = await kvm('stop', name, '--mode', 'Hard', '--wait', '--timeout', '60s');
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, `virtualmachine.vmoperator.vmware.com/${name} stopped\n`);
    assert.equal((await getVM(c, ns, name)).status?.powerState, 'PoweredOff');
    assert.equal((await getVM(c, ns, name)).spec.powerOffMode, 'Hard');

    const start = await kvm('start', name, '--wait');
    assert.equal(start.code, 0, start.stderr);
    await waitForPower(c, ns, name, 'PoweredOn');

    const restart = await kvm('restart', name, '--mode', 'Hard', '--wait', '--timeout', '60s');
    assert.equal(restart.code, 0, restart.stderr);
    const after = await getVM(c, ns, name);
    assert.equal(after.status?.lastRestartTime, after.spec.nextRestartTime);

    const described = await kvm('describe', name);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, new RegExp(`^Name: +${name}$`, 'm'));
    assert.match(described.stdout, /^Power State: +PoweredOn \(desired PoweredOn\)$/m);
    assert.match(described.stdout, /^Conditions:\n +TYPE +STATUS +REASON +AGE +MESSAGE\n/m);
    assert.match(described.stdout, /^ +Ready +True /m);
    assert.match(described.stdout, /^Events:\n[\s\S]* Restarted /m);
    // The admin may read vmop's vCenter connection: the VM's own vSphere tasks, newest first.
    assert.match(described.stdout, /^vSphere Tasks:\n +OPERATION +STATE +AGE +DURATION +USER +ERROR\n/m);
    assert.match(described.stdout, /^ +VirtualMachine\.\S+ +success +\d+s +\d+\.\ds /m);

    // A task vSphere refuses (power on what is on) shows with its fault: what an admin came to see.
    const refused = await govc(['vm.power', '-on', `/DC0/vm/${ns}/${name}`]);
    assert.notEqual(refused.code, 0, refused.stdout);
    const withError = await kvm('describe', name);
    const tasks = withError.stdout.slice(withError.stdout.indexOf('vSphere Tasks:'));
    const first = tasks.split('\n')[2] ?? '';
    assert.match(first, /^ +VirtualMachine\.\S+ +error .*InvalidPowerState/, tasks);

    // A tenant who may read the VM but not vmop's namespace is told why the tasks are missing.
    await c.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'vm-reader', namespace: ns },
      rules: [
        { apiGroups: ['vmoperator.vmware.com'], resources: ['virtualmachines'], verbs: ['get'] },
        { apiGroups: [''], resources: ['events'], verbs: ['list'] },
      ],
    });
    await c.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'vm-reader', namespace: ns },
      subjects: [{ kind: 'User', name: 'vmop-user', apiGroup: 'rbac.authorization.k8s.io' }],
      roleRef: { kind: 'Role', name: 'vm-reader', apiGroup: 'rbac.authorization.k8s.io' },
    });
    const tenant = await kubectl(['vm', 'describe', name, '-n', ns], { path: plugins, context: 'user' });
    assert.equal(tenant.code, 0, tenant.stderr);
    assert.match(tenant.stdout, /^ +Ready +True /m);
    const why =
      "not shown: they are read with vmop's vCenter connection (namespace vmop-system), which you may not read.";
    assert.ok(tenant.stdout.includes(`vSphere Tasks:\n  ${why}`), tenant.stdout);
    assert.doesNotMatch(tenant.stdout, /OPERATION +STATE/);

    // vcsim's guest reports no address here: said, with exit code 1.
    const ip = await kvm('ip', name);
    assert.equal(ip.code, 1);
    assert.match(ip.stderr, /has no IP address yet/);
  });

  it('answers wrong usage with 2 and an unknown VM with 1, as kubectl does', async () => {
    const usage = await kvm('stop', 'x', '--mode', 'Gentle');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--mode must be Hard, Soft or TrySoft/);
    const flag = await kvm('start', 'x', '--bogus');
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--bogus'/);
    const missing = await kvm('describe', 'no-such-vm');
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /Error from server \(NotFound\): virtualmachines.vmoperator.vmware.com "no-such-vm" not found/,
    );
  });
});
