// Runs `vmop manager` for a local ground: its webhook serving certificate (signed by the ground's CA), the
// manager process in the background, and the webhook configurations that point the API server at it.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubeClient, KubeObject } from '../runtime/kube-client.js';
import { webhookConfigurations } from '../install/webhook-configuration.js';
import { httpStatus, logFile, pidFile } from './ground.js';
import { ensurePKI, ensureServingCert } from './pki.js';
import { livePid, portIsFree, startDetached, stopByPidFile, waitFor } from './processes.js';
import { repoRoot } from './toolchain.js';

export interface OperatorOptions {
  /** The ground's folder (pki/, logs/, run/). */
  dir: string;
  kubeconfig: string;
  context?: string;
  healthPort: number;
  webhookPort: number;
  /** Run the volume provisioner for vSphere storage classes (a cluster without the vSphere CSI driver). */
  volumeProvisioner?: boolean;
  /** The manager's --controllers, instead of the set `volumeProvisioner` picks. */
  controllers?: string[];
}

/** Issues the webhook serving certificate (for 127.0.0.1) into `<dir>/webhook-certs/tls.{crt,key}`. */
export async function ensureWebhookCertDir(dir: string): Promise<string> {
  const pki = await ensurePKI(path.join(dir, 'pki'));
  const { cert, key } = await ensureServingCert(pki, 'webhook', { dns: ['localhost'], ips: ['127.0.0.1'] });
  const out = path.join(dir, 'webhook-certs');
  await mkdir(out, { recursive: true, mode: 0o700 });
  await copyFile(cert, path.join(out, 'tls.crt'));
  await copyFile(key, path.join(out, 'tls.key'));
  return out;
}

/** Starts the manager unless it runs already; resolves once /readyz answers 200. Returns whether it started. */
export async function startOperator(opts: OperatorOptions): Promise<boolean> {
  const pid = pidFile(opts.dir, 'manager');
  let started = false;
  if (!(await livePid(pid))) {
    for (const [what, port] of [
      ['health', opts.healthPort],
      ['webhook', opts.webhookPort],
    ] as const) {
      if (!(await portIsFree(port))) {
        throw new Error(
          `the manager cannot listen on 127.0.0.1:${port} (${what}): the port is in use (set VMOP_DEV_PORTS)`,
        );
      }
    }
    const certDir = await ensureWebhookCertDir(opts.dir);
    await startDetached({
      name: 'manager',
      command: process.execPath,
      args: [
        path.join(repoRoot(), 'bin', 'vmop.js'),
        'manager',
        '--kubeconfig',
        opts.kubeconfig,
        ...(opts.context ? ['--context', opts.context] : []),
        '--health-addr',
        `127.0.0.1:${opts.healthPort}`,
        '--webhook-addr',
        `127.0.0.1:${opts.webhookPort}`,
        '--webhook-cert-dir',
        certDir,
        // The local environment provisions vSphere volumes itself (no vSphere CSI driver runs here) and serves
        // its IP pools.
        ...(opts.controllers
          ? ['--controllers', opts.controllers.join(',')]
          : opts.volumeProvisioner
            ? ['--controllers', 'virtualmachine,virtualmachineimage,volumeprovisioner,ipam']
            : []),
      ],
      logFile: logFile(opts.dir, 'manager'),
      pidFile: pid,
    });
    started = true;
  }
  await waitFor('manager', async () => (await httpStatus(`http://127.0.0.1:${opts.healthPort}/readyz`)) === 200, {
    timeoutMs: 60_000,
    logFile: logFile(opts.dir, 'manager'),
    pidFile: pid,
  });
  return started;
}

export async function stopOperator(dir: string): Promise<boolean> {
  return stopByPidFile(pidFile(dir, 'manager'));
}

/** Points the API server's admission at the manager's webhook port (URL webhooks with the ground's CA). */
export async function installWebhooks(
  client: KubeClient,
  prefix: string,
  dir: string,
  webhookPort: number,
): Promise<void> {
  const ca = await readFile(path.join(dir, 'pki', 'ca.crt'));
  const configs = webhookConfigurations(prefix, {
    kind: 'url',
    baseURL: `https://127.0.0.1:${webhookPort}`,
    caBundle: ca.toString('base64'),
  });
  for (const cfg of configs) await client.apply(cfg as unknown as KubeObject);
}

/** Deletes the webhook configurations `installWebhooks` made (none there is fine). */
export async function removeWebhooks(client: KubeClient, prefix: string): Promise<void> {
  for (const cfg of webhookConfigurations(prefix, { kind: 'url', baseURL: 'https://127.0.0.1', caBundle: '' })) {
    await client.deleteIfPresent(cfg as unknown as KubeObject);
  }
}
