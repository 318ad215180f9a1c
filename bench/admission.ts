// Admission benchmarks. (1) The handler under 200 concurrent HTTPS requests on loopback, beside a floor
// server that answers the same requests with a canned AdmissionReview (TLS, keep-alive and body handling
// only): p50/p99 latency and throughput, and the ratio. (2) What the webhooks add to `kubectl apply` of a
// VM and to a direct API create, with the webhook configurations installed vs removed, in one run.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { ensurePKI, ensureServingCert } from '../src/devenv/pki.js';
import { removeWebhooks, installWebhooks } from '../src/devenv/operator.js';
import { kubeConfigFrom } from '../src/devenv/seed.js';
import { startSession } from '../src/devenv/session.js';
import { KubeClient } from '../src/runtime/kube-client.js';
import { PATHS } from '../src/webhooks/handlers.js';
import { summarize, table } from './stats.js';

const run = promisify(execFile);
const CONCURRENCY = 200;
const REQUESTS = Number(process.env.VMOP_BENCH_ADMISSION_REQUESTS ?? 20_000);

function review(uid: string): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: 'vmoperator.vmware.com', version: 'v1alpha3', kind: 'VirtualMachine' },
      operation: 'CREATE',
      userInfo: { username: 'vmop-user', groups: ['vmop:users'] },
      object: {
        apiVersion: 'vmoperator.vmware.com/v1alpha3',
        kind: 'VirtualMachine',
        metadata: { name: 'my-vm', namespace: 'my-namespace' },
        spec: {
          className: 'my-vm-class',
          imageName: 'vmi-0a0044d7c690bcbea',
          storageClass: 'my-storage-class',
          powerState: 'poweredOn',
          bootstrap: { cloudInit: { cloudConfig: {} } },
          network: {
            interfaces: [{ name: 'eth0', addresses: ['192.168.0.10/24'], gateway4: '192.168.0.1' }, { name: 'eth1' }],
          },
        },
      },
    },
  });
}

async function load(port: number, ca: Buffer, urlPath: string): Promise<{ latencies: number[]; seconds: number }> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca });
  const latencies: number[] = [];
  let next = 0;
  const one = (uid: string) =>
    new Promise<void>((resolve, reject) => {
      const body = review(uid);
      const t = process.hrtime.bigint();
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: urlPath,
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
            latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) await one(`uid-${next++}`);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return { latencies, seconds };
}

/** Starts a server in a worker thread: vmop's handlers, or the floor (TLS, keep-alive, body read, canned answer). */
async function startServerWorker(
  kind: 'vmop' | 'floor',
  certDir: string,
): Promise<{ port: number; close: () => Promise<number> }> {
  const worker = new Worker(new URL('./admission-server-worker.js', import.meta.url), {
    workerData: { kind, certDir },
  });
  const msg = await new Promise<{ port?: number; error?: string }>((resolve) => worker.once('message', resolve));
  if (!msg.port) throw new Error(`benchmark server failed: ${msg.error}`);
  return { port: msg.port, close: () => worker.terminate() };
}

export async function benchAdmissionHandler(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-bench-'));
  try {
    const pki = await ensurePKI(path.join(dir, 'pki'));
    const serving = await ensureServingCert(pki, 'bench', { dns: ['localhost'], ips: ['127.0.0.1'] });
    const certDir = path.join(dir, 'certs');
    await mkdir(certDir);
    await copyFile(serving.cert, path.join(certDir, 'tls.crt'));
    await copyFile(serving.key, path.join(certDir, 'tls.key'));
    const ca = await readFile(pki.caCert);
    const server = await startServerWorker('vmop', certDir);
    const floor = await startServerWorker('floor', certDir);
    try {
      await load(floor.port, ca, '/warmup');
      const rows: (string | number)[][] = [];
      const floorRun = await load(floor.port, ca, PATHS.mutateVirtualMachine);
      const f = summarize(floorRun.latencies);
      for (const [name, p] of [
        ['mutate VirtualMachine', PATHS.mutateVirtualMachine],
        ['validate VirtualMachine', PATHS.validateVirtualMachine],
      ] as const) {
        const r = await load(server.port, ca, p);
        const s = summarize(r.latencies);
        rows.push([name, s.p50, s.p99, r.latencies.length / r.seconds, s.p50 / f.p50, s.p99 / f.p99]);
      }
      rows.push(['floor (canned answer)', f.p50, f.p99, floorRun.latencies.length / floorRun.seconds, 1, 1]);
      console.log(
        `\nadmission handler: ${REQUESTS} HTTPS requests per row, ${CONCURRENCY} concurrent, loopback, server in its own thread`,
      );
      console.log(table(['endpoint', 'p50 ms', 'p99 ms', 'req/s', 'p50 ×floor', 'p99 ×floor'], rows));
    } finally {
      await server.close();
      await floor.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchApplyOverhead(): Promise<void> {
  // Only admission is measured: the session's VM controller must not deploy these VMs beside it.
  process.env.VMOP_VM_SELECTOR = 'vmop.bench/reconcile=never';
  const session = await startSession({ prefix: 'vmop-bench', webhookPrefix: 'vmop-bench' });
  const client = new KubeClient(kubeConfigFrom(session.ground.kubeconfig, 'admin'));
  const N = Number(process.env.VMOP_BENCH_APPLY_RUNS ?? 25);
  try {
    const kubectl = session.ground.tools.kubectl;
    const env = { ...process.env, KUBECONFIG: session.ground.kubeconfig };
    const manifest = (name: string) =>
      `apiVersion: vmoperator.vmware.com/v1alpha3\nkind: VirtualMachine\nmetadata:\n  name: ${name}\n  namespace: my-namespace\nspec:\n  className: my-vm-class\n  imageName: vmi-3044b59f15d847781\n  storageClass: my-storage-class\n  bootstrap:\n    cloudInit:\n      cloudConfig: {}\n`;
    const applyOnce = async (name: string) => {
      const t = process.hrtime.bigint();
      const child = run(kubectl, ['apply', '-f', '-'], { env });
      child.child.stdin?.end(manifest(name));
      await child;
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const createOnce = async (name: string) => {
      const t = process.hrtime.bigint();
      await client.create({
        apiVersion: 'vmoperator.vmware.com/v1alpha3',
        kind: 'VirtualMachine',
        metadata: { name, namespace: 'my-namespace' },
        spec: { className: 'my-vm-class', imageName: 'vmi-3044b59f15d847781', storageClass: 'my-storage-class' },
      });
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const measure = async (label: string) => {
      const apply: number[] = [];
      const create: number[] = [];
      for (let i = 0; i < N; i++) {
        apply.push(await applyOnce(`${label}-apply-${i}`));
        create.push(await createOnce(`${label}-create-${i}`));
      }
      return { apply: summarize(apply), create: summarize(create) };
    };
    await measure('warmup');
    const withHooks = await measure('with');
    await removeWebhooks(client, session.webhookPrefix);
    await new Promise((r) => setTimeout(r, 2000)); // let the API server's webhook cache drop them
    const without = await measure('without');
    await installWebhooks(client, session.webhookPrefix, session.dir, session.webhookPort);
    console.log(`\nwebhook overhead on creating a VM (${N} runs each, median and p90 in ms)`);
    console.log(
      table(
        ['operation', 'with webhooks p50', 'without p50', 'added p50', 'with p90', 'without p90'],
        [
          [
            'kubectl apply -f (new VM)',
            withHooks.apply.p50,
            without.apply.p50,
            withHooks.apply.p50 - without.apply.p50,
            withHooks.apply.p90,
            without.apply.p90,
          ],
          [
            'API create (keep-alive client)',
            withHooks.create.p50,
            without.create.p50,
            withHooks.create.p50 - without.create.p50,
            withHooks.create.p90,
            without.create.p90,
          ],
        ],
      ),
    );
  } finally {
    client.close();
    await session.stop();
  }
}
