// `vmop manager` against the real API server: health, readiness and metrics endpoints, JSON logs, and a
// clean exit on SIGTERM; a bad kubeconfig is a clear error, not a crash loop.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freePorts } from '../../src/devenv/processes.js';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { ground, testNamespace } from '../support/ground.js';

const vmop = path.join(repoRoot(), 'bin', 'vmop.js');

function startManager(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number> } {
  const child = spawn(process.execPath, [vmop, 'manager', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return { child, output: () => out, exited };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('vmop manager', () => {
  it('serves /healthz, /readyz and Prometheus /metrics, logs JSON, and stops cleanly on SIGTERM', async () => {
    const [port] = (await freePorts(1)) as [number];
    const leaseNS = await testNamespace('lease');
    const m = startManager([
      '--kubeconfig',
      ground().kubeconfig,
      '--context',
      'admin',
      '--health-addr',
      `127.0.0.1:${port}`,
      // The shared manager owns the run's VMs; this one reconciles none of them.
      '--vm-selector',
      'vmop.test/manager=none',
      // Its lease in a namespace of its own: it leads at once.
      '--leader-elect',
      '--leader-election-namespace',
      leaseNS,
    ]);
    const base = `http://127.0.0.1:${port}`;
    await waitUntil(async () => (await get(`${base}/readyz`)).status === 200, 20_000);
    assert.deepEqual(await get(`${base}/healthz`), { status: 200, body: 'ok' });
    const metrics = await get(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^# HELP process_resident_memory_bytes/m);
    assert.match(metrics.body, /^# HELP nodejs_heap_size_used_bytes/m);
    // controller-runtime's and client-go's names, so stock dashboards and alerts work.
    const scraped = async () => (await get(`${base}/metrics`)).body;
    // (The VM controller registers its series when it starts, before any reconcile.)
    await waitUntil(
      async () => /^controller_runtime_reconcile_total\{controller="virtualmachine"/m.test(await scraped()),
      30_000,
    );
    const body = await scraped();
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds',
      'controller_runtime_active_workers',
      'controller_runtime_max_concurrent_reconciles',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds',
      'workqueue_work_duration_seconds',
      'workqueue_retries_total',
      'workqueue_unfinished_work_seconds',
      'workqueue_longest_running_processor_seconds',
      'rest_client_requests_total',
      'leader_election_master_status',
    ]) {
      assert.match(body, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.match(body, /^workqueue_depth\{name="virtualmachine",controller="virtualmachine"\} \d+/m);
    assert.match(body, /^rest_client_requests_total\{code="200",method="GET",host="127\.0\.0\.1:\d+"\} [1-9]/m);
    await waitUntil(
      async () => /^leader_election_master_status\{name="vmop-controller-manager"\} 1$/m.test(await scraped()),
      30_000,
    );
    // The image controller talks to vcsim at once; its SOAP calls show up by method.
    await waitUntil(
      async () =>
        /vmop_vsphere_call_duration_seconds_count\{method="Login",fault=""\} [1-9]/.test(
          (await get(`${base}/metrics`)).body,
        ),
      20_000,
    );
    assert.equal((await get(`${base}/nope`)).status, 404);

    m.child.kill('SIGTERM');
    assert.equal(await m.exited, 0);
    const lines = m
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; level: string });
    assert.ok(lines.some((l) => l.msg === 'manager started' && l.level === 'info'));
    assert.equal(lines.at(-1)?.msg, 'manager stopped');
  });

  it('reports not ready while the API server cannot be reached', async () => {
    const [port, dead] = (await freePorts(2)) as [number, number];
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-mgr-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:${dead}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: x\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n`,
    );
    const m = startManager(['--kubeconfig', kubeconfig, '--health-addr', `127.0.0.1:${port}`]);
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitUntil(async () => (await get(`${base}/healthz`)).status === 200, 20_000);
      const ready = await get(`${base}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(ready.body, /^apiserver: /);
      m.child.kill('SIGTERM');
      assert.equal(await m.exited, 0);
    } finally {
      m.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits with a clear message when the kubeconfig does not exist', async () => {
    const m = startManager(['--kubeconfig', '/nonexistent/kubeconfig', '--health-addr', '127.0.0.1:0']);
    assert.equal(await m.exited, 1);
    assert.match(m.output(), /nonexistent\/kubeconfig/);
  });
});
