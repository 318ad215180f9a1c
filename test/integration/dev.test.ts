// `vmop dev up|status|down` as a user runs them: a second local environment in its own folder and ports,
// started, inspected, started again (harmless), and stopped; a busy port fails cleanly; an existing
// cluster given with --kubeconfig gets only vcsim and the manager.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { API_VERSION } from '../../src/api/v1alpha3/common.js';
import { freePorts } from '../../src/devenv/processes.js';
import { kubeConfigFrom } from '../../src/devenv/seed.js';
import { KubeClient } from '../../src/runtime/kube-client.js';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { ground } from '../support/ground.js';
import { eventually, type VMObject } from '../support/vms.js';

const run = promisify(execFile);
const vmop = path.join(repoRoot(), 'bin', 'vmop.js');

async function dev(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [vmop, 'dev', ...args], {
      env: { ...process.env, ...env },
      timeout: 300_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pids(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'vcsim', 'manager']) {
    const text = await readFile(path.join(dir, 'run', `${name}.pid`), 'utf8').catch(() => '');
    if (text) out.push(Number(text.split('\n')[0]));
  }
  return out;
}

/** Pids of live processes whose command line mentions `dir` (what a ground in `dir` runs). */
async function processesUsing(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir) && !cmdline.includes('vmop.js\0dev')) found.push(Number(entry));
  }
  return found;
}

async function envFor(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-dev-'));
  const ports = await freePorts(6);
  return { dir, env: { VMOP_DEV_DIR: dir, VMOP_DEV_PORTS: ports.join(',') } };
}

describe('vmop dev', () => {
  const dirs: { dir: string; env: NodeJS.ProcessEnv }[] = [];
  after(async () => {
    for (const d of dirs) {
      await dev(['down', '--purge'], d.env);
      await rm(d.dir, { recursive: true, force: true });
    }
  });

  it('up starts everything healthy, up again is harmless, status reports it, down stops exactly it', async () => {
    const d = await envFor();
    dirs.push(d);
    const up = await dev(['up', '--apply-examples'], d.env);
    assert.equal(up.code, 0, up.out);
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'vcsim', 'manager'])
      assert.match(up.out, new RegExp(`started ${c}`));
    assert.match(up.out, /installed admission webhooks/);
    assert.match(up.out, /virtualmachine\.vmoperator\.vmware\.com\/my-vm (created|unchanged|configured)/);
    // npm start's promise: the example VM is deployed, PoweredOn, and govc finds it by its instance UUID.
    assert.match(
      up.out,
      /NAME\s+POWER-STATE\s+CLASS\s+IMAGE\s+PRIMARY-IP4\s+AGE\nmy-vm\s+PoweredOn\s+my-vm-class\s+vmi-/,
    );
    assert.match(up.out, /govc vm\.info -vm\.uuid .*\nName:\s+my-vm\n\s+Path:\s+\/DC0\/vm\/my-namespace\/my-vm\n/);
    assert.match(up.out, /Power state:\s+poweredOn/);
    const kubeconfig = await readFile(path.join(d.dir, 'kubeconfig'), 'utf8');
    assert.match(kubeconfig, /- name: admin[\s\S]*- name: user/);
    assert.match(await readFile(path.join(d.dir, 'govc.env'), 'utf8'), /export GOVC_URL='https:\/\/vmop:/);
    // As a Supervisor's install does, the operator's network ConfigMap gives global DNS: the example VM's
    // intended config shows the spec's rows "from the ConfigMap used to initialize VM Operator".
    assert.match(up.out, /seeded ConfigMap vmop-system\/vmop-network-config/);
    const kc = new KubeClient(kubeConfigFrom(path.join(d.dir, 'kubeconfig'), 'admin'));
    try {
      const dns = await eventually('my-vm status.network.config.dns from the ConfigMap', async () => {
        const obj = await kc.get<VMObject>(API_VERSION, 'VirtualMachine', 'my-vm', 'my-namespace');
        const got = (obj.status as { network?: { config?: { dns?: Record<string, unknown> } } } | undefined)?.network
          ?.config?.dns;
        return got?.nameservers ? got : undefined;
      });
      assert.deepEqual(
        [dns.nameservers, dns.searchDomains],
        [
          ['8.8.8.8', '8.8.4.4'],
          ['hello.world', 'fu.bar', 'example.com'],
        ],
      );
    } finally {
      kc.close();
    }

    const before = await pids(d.dir);
    assert.equal(before.length, 5);
    const again = await dev(['up'], d.env);
    assert.equal(again.code, 0, again.out);
    assert.doesNotMatch(again.out, /started /);
    assert.deepEqual(await pids(d.dir), before, 'a second up must not restart anything');

    const status = await dev(['status'], d.env);
    assert.equal(status.code, 0, status.out);
    for (const c of ['etcd', 'kube-apiserver', 'vcsim', 'manager']) {
      assert.match(status.out, new RegExp(`${c}\\s+healthy\\s+\\d+\\s+https?://127\\.0\\.0\\.1:\\d+`));
    }
    assert.match(status.out, /kube-controller-manager\s+healthy\s+\d+\s+\(no port\)/);

    const down = await dev(['down'], d.env);
    assert.equal(down.code, 0, down.out);
    assert.match(down.out, /stopped manager, vcsim, kube-controller-manager, kube-apiserver, etcd/);
    assert.ok(
      before.every((pid) => !alive(pid)),
      'every process up started is gone',
    );
    assert.deepEqual(await processesUsing(d.dir), []);
    const stopped = await dev(['status'], d.env);
    assert.equal(stopped.code, 3);
    assert.match(stopped.out, /etcd\s+stopped/);
  });

  it('a busy port gives a clear message and leaves nothing started', async () => {
    const d = await envFor();
    dirs.push(d);
    const apiserverPort = Number(String(d.env.VMOP_DEV_PORTS).split(',')[2]);
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(apiserverPort, '127.0.0.1', resolve));
    try {
      const up = await dev(['up'], d.env);
      assert.equal(up.code, 1);
      assert.match(
        up.out,
        new RegExp(`kube-apiserver cannot listen on 127\\.0\\.0\\.1:${apiserverPort}: the port is in use`),
      );
      assert.match(await readFile(path.join(d.dir, 'logs', 'etcd.log'), 'utf8'), /./, 'etcd had been started');
      assert.deepEqual(await processesUsing(d.dir), [], 'etcd, started before the failure, is stopped again');
      const status = await dev(['status'], d.env);
      assert.doesNotMatch(status.out, /healthy/);
    } finally {
      blocker.close();
    }
  });

  it('up --kubeconfig uses an existing cluster and starts only vcsim and the manager', async () => {
    // The existing cluster is a dev environment of its own, not the test run's ground: the second manager
    // reconciles every VM and image of the cluster it is given, which would disturb the other tests.
    const existing = await envFor();
    dirs.push(existing);
    const base = await dev(['up'], existing.env);
    assert.equal(base.code, 0, base.out);
    const kubeconfig = path.join(existing.dir, 'kubeconfig');
    const kubectlOn = (args: string[]) =>
      run(ground().tools.kubectl, ['--kubeconfig', kubeconfig, '--context', 'admin', ...args]).then((r) => r.stdout);
    const before = await kubectlOn(['get', 'validatingwebhookconfigurations', '-o', 'name']);

    const d = await envFor();
    dirs.push(d);
    const up = await dev(['up', '--kubeconfig', kubeconfig], d.env);
    assert.equal(up.code, 0, up.out);
    assert.match(up.out, /started vcsim/);
    assert.match(up.out, /started manager/);
    assert.doesNotMatch(up.out, /started (etcd|kube-apiserver)/);
    const env = await readFile(path.join(d.dir, 'env.sh'), 'utf8');
    assert.match(env, new RegExp(`export KUBECONFIG='${kubeconfig}'`), 'env.sh points at the existing cluster');
    const mine = await kubectlOn(['get', 'validatingwebhookconfigurations', '-o', 'name']);
    assert.ok(
      mine.split('\n').some((l) => /vmop-dev-[0-9a-f]{8}-validating/.test(l) && !before.includes(l)),
      'up installs webhook configurations of its own',
    );
    const down = await dev(['down'], d.env);
    assert.equal(down.code, 0, down.out);
    assert.doesNotMatch(down.out, /etcd|kube-apiserver/, 'down stops only what up started');
    const left = await kubectlOn([
      'get',
      'validatingwebhookconfigurations,mutatingwebhookconfigurations',
      '-o',
      'name',
    ]);
    assert.equal(
      left
        .split('\n')
        .filter((l) => /validating/.test(l))
        .join('\n'),
      before.trim(),
      'down removes its own, so the cluster is not left with a dead webhook, and keeps the others',
    );
  });
});
