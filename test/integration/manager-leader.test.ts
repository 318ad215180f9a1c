// Two `vmop manager` processes with leader election against the real API server: exactly one holds the
// Lease; when it is killed (no chance to release), the other takes over within the lease duration; the
// admission webhooks answer on both replicas the whole time.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ensureWebhookCertDir } from '../../src/devenv/operator.js';
import { freePorts } from '../../src/devenv/processes.js';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { PATHS } from '../../src/webhooks/handlers.js';
import { client, ground } from '../support/ground.js';
import { OWN_MANAGER_LABEL } from '../support/manager.js';
import { vm, vmNamespace, vspherePowerState, waitForPower } from '../support/vms.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function admit(port: number, ca: Buffer): Promise<number> {
  const body = JSON.stringify({
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: { uid: 'u', operation: 'CREATE', userInfo: {}, object: { metadata: { name: 'x' }, spec: {} } },
  });
  return new Promise((resolve) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: PATHS.validateVirtualMachine, method: 'POST', ca, agent: false, timeout: 2000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

describe('manager leader election', () => {
  it(
    'one leader at a time; the other takes over within the lease after the leader is killed; webhooks answer throughout',
    { timeout: 90_000 },
    async () => {
      const g = ground();
      const ns = await vmNamespace('leader');
      const certDir = await ensureWebhookCertDir(g.dir);
      const ca = await readFile(g.caCert);
      const ports = await freePorts(4);
      const procs: Record<string, ChildProcess> = {};
      const webhookPort: Record<string, number> = { a: ports[1] as number, b: ports[3] as number };
      const start = (id: string, health: number, webhook: number) => {
        procs[id] = spawn(
          process.execPath,
          [
            path.join(repoRoot(), 'bin', 'vmop.js'),
            'manager',
            '--kubeconfig',
            g.kubeconfig,
            '--context',
            'admin',
            '--health-addr',
            `127.0.0.1:${health}`,
            '--webhook-addr',
            `127.0.0.1:${webhook}`,
            '--webhook-cert-dir',
            certDir,
            '--leader-elect',
            '--leader-election-namespace',
            ns,
            '--leader-election-id',
            id,
            // Only the VM controller, and only for this test's VMs (the shared manager leaves them alone).
            '--controllers',
            'virtualmachine',
            '--vm-selector',
            `${OWN_MANAGER_LABEL}=${ns}`,
          ],
          { stdio: 'ignore' },
        );
      };
      const c = client();
      const holder = async () =>
        (
          await c
            .request<{ spec?: { holderIdentity?: string } }>(
              'GET',
              `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/vmop-controller-manager`,
            )
            .catch(() => undefined)
        )?.spec?.holderIdentity;
      try {
        start('a', ports[0] as number, webhookPort.a as number);
        for (let i = 0; i < 100 && (await holder()) !== 'a'; i++) await sleep(100);
        assert.equal(await holder(), 'a');
        start('b', ports[2] as number, webhookPort.b as number);
        for (let i = 0; i < 100 && (await admit(webhookPort.b as number, ca)) !== 200; i++) await sleep(100);
        await sleep(3000);
        assert.equal(await holder(), 'a', 'b does not take a lease that a keeps renewing');
        const suffix = ns.slice(ns.lastIndexOf('-') + 1);
        await c.create(vm(ns, `led-by-a-${suffix}`, {}, { [OWN_MANAGER_LABEL]: ns }));
        await waitForPower(c, ns, `led-by-a-${suffix}`, 'PoweredOn');
        procs.a?.kill('SIGKILL');
        const killed = Date.now();
        let takeover = 0;
        for (let i = 0; i < 250; i++) {
          assert.equal(await admit(webhookPort.b as number, ca), 200, 'the webhooks of b answer during the failover');
          if ((await holder()) === 'b') {
            takeover = Date.now() - killed;
            break;
          }
          await sleep(100);
        }
        assert.ok(takeover > 0, 'b never took over');
        assert.ok(takeover <= 15_000 + 3_000, `b took over after ${takeover} ms (lease 15 s)`);
        // The new leader reconciles: it creates a new VM and restores the first one's power state.
        await c.create(vm(ns, `led-by-b-${suffix}`, {}, { [OWN_MANAGER_LABEL]: ns }));
        await waitForPower(c, ns, `led-by-b-${suffix}`, 'PoweredOn');
        await c.request(
          'PATCH',
          `/apis/vmoperator.vmware.com/v1alpha3/namespaces/${ns}/virtualmachines/led-by-a-${suffix}`,
          {
            contentType: 'application/merge-patch+json',
            body: { spec: { powerState: 'PoweredOff', powerOffMode: 'Hard' } },
          },
        );
        await waitForPower(c, ns, `led-by-a-${suffix}`, 'PoweredOff');
        assert.equal(await vspherePowerState(ns, `led-by-a-${suffix}`), 'poweredOff');
      } finally {
        for (const p of Object.values(procs)) p.kill('SIGKILL');
        c.close();
      }
    },
  );
});
