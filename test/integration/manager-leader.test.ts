// Two `vmop manager` processes started with the container arguments of the generated Deployment
// (config/manager/manager.yaml: leader election on, webhook certificates from a Secret the managers keep)
// against the real API server. The API server reaches them the way a Service would: through a small
// round-robin TCP proxy. Checked: both replicas issue and share one serving certificate and inject its CA
// into the webhook configurations; with a 20 s validity the certificate is renewed while the API server admits
// requests without a single failure; exactly one replica holds the Lease, and when it is killed (no chance
// to release) the other takes over within the lease duration while its webhooks keep answering.
//
// What differs from the manifest, and why: loopback addresses (no pod network); --webhook-cert-hosts
// 127.0.0.1 (the API server calls loopback, not the Service's DNS name); a Secret, webhook configurations and
// Lease of the test's own, and only this test's VMs (other tests and the shared manager run beside it); and
// a short --webhook-cert-validity to see renewals.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { freePorts } from '../../src/devenv/processes.js';
import { repoRoot } from '../../src/devenv/toolchain.js';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { webhookConfigurations } from '../../src/install/webhook-configuration.js';
import { PATHS } from '../../src/webhooks/handlers.js';
import { client, ground } from '../support/ground.js';
import { OWN_MANAGER_LABEL } from '../support/manager.js';
import { scrape } from '../support/metrics.js';
import { eventually, vm, vmNamespace, vspherePowerState, waitForPower } from '../support/vms.js';
import { API, vmPath, rawPath } from '../support/vm.js';
import { apiPath } from '../../src/runtime/api-path.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The manager container's arguments from the generated Deployment, as flag → value ('' for switches). */
async function manifestArgs(): Promise<Map<string, string>> {
  const text = await readFile(path.join(repoRoot(), 'config', 'manager', 'manager.yaml'), 'utf8');
  const deployment = YAML.parseAllDocuments(text)
    .map((d) => d.toJSON() as KubeObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } })
    .find((o) => o.kind === 'Deployment')!;
  const args = deployment.spec.template.spec.containers[0]!.args;
  assert.equal(args[0], 'manager');
  const flags = new Map<string, string>();
  for (let i = 1; i < args.length; i++) {
    const name = args[i]!.replace(/^--/, '');
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(name, next);
      i++;
    } else flags.set(name, '');
  }
  return flags;
}

/** A stand-in for a Service: each connection goes to the next live backend. */
function roundRobin(backends: number[]): { port: Promise<number>; remove(p: number): void; close(): void } {
  const live = [...backends];
  let next = 0;
  const server = net.createServer((sock) => {
    const port = live[next++ % live.length]!;
    const up = net.connect(port, '127.0.0.1');
    sock.pipe(up).pipe(sock);
    up.on('error', () => sock.destroy());
    sock.on('error', () => up.destroy());
  });
  const port = new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
  return {
    port,
    remove: (p) => live.splice(live.indexOf(p), 1),
    close: () => server.close(),
  };
}

/** POSTs an AdmissionReview straight to one replica (trusting `ca`): its HTTP status, 0 when unreachable. */
function admit(port: number, ca: string): Promise<number> {
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

/** SHA-256 of the certificate a replica serves now. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const raw = s.getPeerCertificate().raw;
      s.end();
      resolve(createHash('sha256').update(raw).digest('hex'));
    });
    s.on('error', reject);
  });
}

async function webhookRequests(healthPort: number): Promise<number> {
  return (await scrape(healthPort)).samples
    .filter((s) => s.name === 'vmop_webhook_requests_total')
    .reduce((a, s) => a + s.value, 0);
}

describe('manager: two replicas with the manifests settings', () => {
  it(
    'renew one shared webhook certificate without failing admission, and fail over within the lease',
    { timeout: 150_000 },
    async () => {
      const g = ground();
      const c: KubeClient = client();
      const ns = await vmNamespace('leader');
      const suffix = ns.slice(ns.lastIndexOf('-') + 1);
      const secretName = `webhook-cert-${suffix}`;
      const prefix = `vmop-leader-${suffix}`;
      const ports = await freePorts(4);
      const replicas = {
        a: { health: ports[0]!, webhook: ports[1]! },
        b: { health: ports[2]!, webhook: ports[3]! },
      };
      const proxy = roundRobin([replicas.a.webhook, replicas.b.webhook]);
      const procs: Record<string, ChildProcess> = {};
      const flags = await manifestArgs();
      assert.ok(flags.has('leader-elect') && flags.has('webhook-cert-secret'), [...flags.keys()].join(' '));
      const start = (id: 'a' | 'b') => {
        const f = new Map(flags);
        f.set('kubeconfig', g.kubeconfig);
        f.set('context', 'admin');
        f.set('health-addr', `127.0.0.1:${replicas[id].health}`);
        f.set('webhook-addr', `127.0.0.1:${replicas[id].webhook}`);
        f.set('webhook-cert-secret', secretName);
        f.set('webhook-cert-hosts', '127.0.0.1');
        f.set('webhook-cert-validity', '20s');
        f.set('webhook-configuration-prefix', prefix);
        f.set('leader-election-namespace', ns);
        f.set('leader-election-id', id);
        f.set('controllers', 'virtualmachine');
        f.set('vm-selector', `${OWN_MANAGER_LABEL}=${ns}`);
        const argv = [...f].flatMap(([k, v]) => (v === '' ? [`--${k}`] : [`--${k}`, v]));
        // Logs beside the ground's (kept for inspection when a run fails).
        const log = openSync(path.join(g.dir, 'logs', `leader-${suffix}-${id}.log`), 'a');
        procs[id] = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'vmop.js'), 'manager', ...argv], {
          stdio: ['ignore', log, log],
          env: { ...process.env, POD_NAMESPACE: 'vmop-system' },
        });
      };
      const holder = async () =>
        (
          await c
            .request<{ spec?: { holderIdentity?: string } }>(
              'GET',
              rawPath(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/vmop-controller-manager`),
            )
            .catch(() => undefined)
        )?.spec?.holderIdentity;
      const secret = async () =>
        (
          await c
            .request<{ data: Record<string, string> }>(
              'GET',
              rawPath(`/api/v1/namespaces/vmop-system/secrets/${secretName}`),
            )
            .catch(() => undefined)
        )?.data;
      // Our webhook configurations (no caBundle: the managers fill it in), for this namespace only.
      const configs = webhookConfigurations(prefix, {
        kind: 'url',
        baseURL: `https://127.0.0.1:${await proxy.port}`,
        caBundle: '',
      }).map((cfg) => ({
        ...cfg,
        webhooks: cfg.webhooks.map((w) => {
          const { caBundle: _none, ...clientConfig } = w.clientConfig as Record<string, unknown>;
          return {
            ...w,
            clientConfig,
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
          };
        }),
      }));
      for (const cfg of configs) await c.apply(cfg as unknown as KubeObject);
      try {
        // Waits are for conditions, with caps generous enough for a loaded two-core machine (a Node process
        // can take many seconds to start there).
        start('a');
        await eventually('a leads', async () => ((await holder()) === 'a' ? true : undefined), 60_000);
        start('b');
        const data = await eventually('the managers created the certificate Secret', secret, 60_000);
        const ca = () => secret().then((d) => Buffer.from(d!['ca.crt']!, 'base64').toString());
        await eventually(
          'b serves admission',
          async () => ((await admit(replicas.b.webhook, await ca())) === 200 ? true : undefined),
          60_000,
        );
        assert.equal(await admit(replicas.a.webhook, await ca()), 200);
        assert.equal(await admit(replicas.b.webhook, await ca()), 200);
        // Both configurations carry the Secret's CA.
        const caBundle = data['ca.crt'];
        for (let i = 0; i < 600; i++) {
          const bundles = await Promise.all(
            configs.map((cfg) =>
              c
                .get<KubeObject & { webhooks: { clientConfig: { caBundle?: string } }[] }>(
                  cfg.apiVersion,
                  cfg.kind,
                  cfg.metadata.name,
                )
                .then((o) => o.webhooks.map((w) => w.clientConfig.caBundle)),
            ),
          );
          if (bundles.flat().every((b) => b === caBundle)) break;
          await sleep(100);
        }

        // 35 s of admission through the API server (dry-run creates, so nothing is stored) while the
        // 20 s certificate is renewed: every request must be admitted.
        const servedBy = { a: new Set<string>(), b: new Set<string>() };
        const secretVersions = new Set<string>([createHash('sha256').update(data['tls.crt']!).digest('hex')]);
        const before = (await webhookRequests(replicas.a.health)) + (await webhookRequests(replicas.b.health));
        const failures: string[] = [];
        let admitted = 0;
        const until = Date.now() + 35_000;
        for (let i = 0; Date.now() < until; i++) {
          try {
            await c.request('POST', apiPath({ apiVersion: API, resource: 'virtualmachines', namespace: ns }), {
              body: vm(ns, `dry-${i}`),
              query: { dryRun: 'All' },
            });
            admitted++;
          } catch (err) {
            failures.push(err instanceof Error ? err.message : String(err));
          }
          if (i % 10 === 0) {
            servedBy.a.add(await servedFingerprint(replicas.a.webhook));
            servedBy.b.add(await servedFingerprint(replicas.b.webhook));
            const d = await secret();
            if (d) secretVersions.add(createHash('sha256').update(d['tls.crt']!).digest('hex'));
          }
          await sleep(50);
        }
        assert.deepEqual(failures, [], 'no admission request failed while certificates were renewed');
        assert.ok(admitted > 100, `${admitted} requests admitted`);
        assert.ok(secretVersions.size >= 2, `the serving certificate was renewed (${secretVersions.size} seen)`);
        assert.ok(servedBy.a.size >= 2 && servedBy.b.size >= 2, 'both replicas switched to the renewed certificate');
        const served = (await webhookRequests(replicas.a.health)) + (await webhookRequests(replicas.b.health));
        assert.ok(served - before >= admitted, 'our replicas answered the admission requests');
        const current = new X509Certificate(Buffer.from((await secret())!['tls.crt']!, 'base64').toString());
        assert.ok(new Date(current.validTo).getTime() > Date.now(), 'the stored certificate is valid');
        // The expiry the VmopWebhookCertificateExpiring alert reads, and the leader gauge VmopNoLeader reads.
        const metrics = (await scrape(replicas.b.health)).samples;
        const expiry = metrics.find((m) => m.name === 'vmop_webhook_certificate_expiry_timestamp_seconds');
        assert.ok(expiry && expiry.value * 1000 > Date.now(), 'the certificate expiry is exported');
        assert.ok(metrics.some((m) => m.name === 'leader_election_master_status'));

        // Fail-over: the leader goes (first out of the "Service", then killed without releasing the Lease).
        await c.create(vm(ns, `led-by-a-${suffix}`, {}, { [OWN_MANAGER_LABEL]: ns }));
        await waitForPower(c, ns, `led-by-a-${suffix}`, 'PoweredOn');
        proxy.remove(replicas.a.webhook);
        procs.a?.kill('SIGKILL');
        const killed = Date.now();
        let takeover = 0;
        for (let i = 0; i < 400; i++) {
          assert.equal(
            await admit(replicas.b.webhook, await ca()),
            200,
            'the webhooks of b answer during the failover',
          );
          if ((await holder()) === 'b') {
            takeover = Date.now() - killed;
            break;
          }
          await sleep(100);
        }
        assert.ok(takeover > 0, 'b never took over');
        // The lease (15 s, counted from b's own last sight of a renewal) plus b's retry period and slack.
        assert.ok(takeover <= 15_000 + 5_000, `b took over after ${takeover} ms (lease 15 s)`);
        // The new leader reconciles: it creates a new VM and restores the first one's power state.
        await c.create(vm(ns, `led-by-b-${suffix}`, {}, { [OWN_MANAGER_LABEL]: ns }));
        await waitForPower(c, ns, `led-by-b-${suffix}`, 'PoweredOn');
        await c.request('PATCH', vmPath(ns, `led-by-a-${suffix}`), {
          contentType: 'application/merge-patch+json',
          body: { spec: { powerState: 'PoweredOff', powerOffMode: 'Hard' } },
        });
        await waitForPower(c, ns, `led-by-a-${suffix}`, 'PoweredOff');
        assert.equal(await vspherePowerState(ns, `led-by-a-${suffix}`), 'poweredOff');
      } finally {
        for (const p of Object.values(procs)) p.kill('SIGKILL');
        proxy.close();
        for (const cfg of configs) await c.delete(cfg as unknown as KubeObject).catch(() => undefined);
        c.close();
      }
    },
  );
});
