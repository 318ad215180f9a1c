// `vmop manager`: runs the operator process until it is signalled to stop.
import { CONVERTED_CRDS, IN_CLUSTER_SERVICE } from '../crd/definitions.js';
import { ConversionCABundle } from '../webhooks/certificates/conversion-ca.js';
import { errorMessage } from '../runtime/errors.js';
import { DEFAULT_MAX_CONCURRENT_CREATES } from '../controllers/virtualmachine/operations.js';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { Histogram } from 'prom-client';
import { Manager } from '../runtime/manager.js';
import { createLogger } from '../runtime/logger.js';
import { ImageSync } from '../controllers/virtualmachineimage/controller.js';
import { VirtualMachineController } from '../controllers/virtualmachine/controller.js';
import { VSphereVMProvider } from '../providers/vsphere/vms.js';
import { VSphereDiskProvider } from '../providers/vsphere/disk-provider.js';
import { VolumeProvisioner } from '../controllers/volumeprovisioner/controller.js';
import { IPAMProvider } from '../controllers/ipam/controller.js';
import { EventRecorder } from '../runtime/events.js';
import { cachedConfigSource, readProviderConfig } from './provider-config.js';
import { VSphereImageProvider } from '../providers/vsphere/images.js';
import { VSphereSession } from '../providers/vsphere/session.js';
import type { KubeClient } from '../runtime/kube-client.js';
import { apiPath } from '../runtime/api-path.js';
import { parseUserList } from '../webhooks/privileged.js';
import { webhookRunnable } from '../webhooks/runnable.js';
import { CertificateRotator } from '../webhooks/certificates/rotator.js';
import { createCertificate, newKeyPair, privateKeyPEM } from '../webhooks/certificates/x509.js';
import { startSecureMetricsServer } from '../runtime/secure-metrics.js';
import type { CertificateSource } from '../webhooks/server.js';
import { parseArgs, parseDuration, stringFlag } from './args.js';
import { untilAborted } from '../runtime/timeout.js';

export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const port = Number(value.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--${flag} must be HOST:PORT, e.g. 127.0.0.1:8081 (got "${value}")`);
  }
  return { host: value.slice(0, i) || '0.0.0.0', port };
}

function positiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} must be a positive number (got "${value}")`);
  return n;
}

/** The secure metrics endpoint's certificate: from a folder (tls.crt, tls.key), else made now, self-signed. */
async function metricsServingPair(certDir: string | undefined): Promise<{ cert: string; key: string }> {
  if (certDir) {
    const [cert, key] = await Promise.all(['tls.crt', 'tls.key'].map((f) => readFile(path.join(certDir, f), 'utf8')));
    return { cert: cert!, key: key! };
  }
  const pair = newKeyPair();
  const now = Date.now();
  const cert = createCertificate({
    commonName: 'vmop-metrics',
    publicKey: pair.publicKey,
    selfKey: pair.privateKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * 24 * 3600_000),
    isCA: false,
    hosts: [hostname(), 'localhost', '127.0.0.1'],
  });
  return { cert, key: privateKeyPEM(pair.privateKey) };
}

/** The flags of `vmop manager` (the help text and the README name each; a test checks). */
export const MANAGER_FLAGS = {
  booleans: ['leader-elect'],
  strings: [
    'kubeconfig',
    'context',
    'health-addr',
    'log-level',
    'webhook-addr',
    'webhook-cert-dir',
    'webhook-cert-secret',
    'webhook-cert-hosts',
    'webhook-cert-validity',
    'webhook-service',
    'webhook-configuration-prefix',
    'webhook-client-ca',
    'privileged-users',
    'service-account',
    'leader-election-namespace',
    'leader-election-id',
    'namespace',
    'image-sync-interval',
    'vm-concurrency',
    'max-concurrent-creates',
    'trysoft-timeout',
    'orphan-grace',
    'vm-selector',
    'controllers',
    'metrics-secure-addr',
    'metrics-cert-dir',
  ],
} as const;

export async function managerCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, MANAGER_FLAGS, 'manager');
  const { host, port } = parseHostPort(stringFlag(args, 'health-addr') ?? '0.0.0.0:8081', 'health-addr');
  const namespace = stringFlag(args, 'namespace') ?? process.env.POD_NAMESPACE ?? 'vmop-system';
  const logger = createLogger({ level: stringFlag(args, 'log-level') });
  const manager = new Manager({
    kubeconfig: stringFlag(args, 'kubeconfig'),
    context: stringFlag(args, 'context'),
    healthHost: host,
    healthPort: port,
    logger,
    leaderElection: args.flags.has('leader-elect')
      ? {
          namespace: stringFlag(args, 'leader-election-namespace') ?? namespace,
          name: 'vmop-controller-manager',
          identity: stringFlag(args, 'leader-election-id'),
        }
      : undefined,
  });
  const kube = manager.client;
  const certDir = stringFlag(args, 'webhook-cert-dir');
  const certSecret = stringFlag(args, 'webhook-cert-secret');
  if (certDir && certSecret) {
    throw new Error('--webhook-cert-dir and --webhook-cert-secret are alternatives: give one of them');
  }
  let certificates: CertificateSource | undefined;
  // The Service the webhook certificate is for, and the one CRDs convert through.
  const service = stringFlag(args, 'webhook-service') ?? IN_CLUSTER_SERVICE.name;
  if (certSecret) {
    // The manager issues and renews its own serving certificate in this Secret and keeps the webhook
    // configurations' caBundle current (every replica; they coordinate through resourceVersions).
    const hosts = stringFlag(args, 'webhook-cert-hosts')
      ?.split(',')
      .map((h) => h.trim())
      .filter(Boolean) ?? [
      service,
      `${service}.${namespace}`,
      `${service}.${namespace}.svc`,
      `${service}.${namespace}.svc.cluster.local`,
    ];
    const prefix = stringFlag(args, 'webhook-configuration-prefix') ?? 'vmop';
    const validityMs = parseDuration(stringFlag(args, 'webhook-cert-validity') ?? '2160h', 'webhook-cert-validity');
    const rotator = new CertificateRotator({
      client: kube,
      namespace,
      secretName: certSecret,
      mutatingConfiguration: `${prefix}-mutating`,
      validatingConfiguration: `${prefix}-validating`,
      conversionCRDs: [...CONVERTED_CRDS],
      service,
      // The CA lives ten serving lifetimes, at least a year.
      policy: { hosts, validityMs, caValidityMs: Math.max(10 * validityMs, 365 * 86_400_000) },
      logger: logger.child({ component: 'webhook-certificates' }),
      registry: manager.registry,
    });
    manager.add(rotator);
    certificates = rotator;
  }
  if (certDir) {
    // A certificate folder with its CA (cert-manager's Secret): the CRDs' conversion webhook trusts that CA.
    manager.add(
      new ConversionCABundle({
        client: kube,
        crds: CONVERTED_CRDS,
        caFile: path.join(certDir, 'ca.crt'),
        namespace,
        service,
        intervalMs: 60_000,
        logger: logger.child({ component: 'conversion-ca-bundle' }),
      }),
    );
  }
  if (certDir || certificates) {
    const addr = parseHostPort(stringFlag(args, 'webhook-addr') ?? '0.0.0.0:9443', 'webhook-addr');
    const clientCAFile = stringFlag(args, 'webhook-client-ca');
    let listening = false;
    manager.add(
      webhookRunnable({
        ...addr,
        certDir,
        certificates,
        clientCA: clientCAFile ? await readFile(clientCAFile, 'utf8') : undefined,
        privileges: {
          // The manager's own identity is privileged (it writes vmop.dev metadata and removes its finalizer);
          // when not given, the API server says who the manager is.
          serviceAccount:
            stringFlag(args, 'service-account') ??
            process.env.VMOP_SERVICE_ACCOUNT ??
            (await whoAmI(kube).catch((err: unknown) => {
              logger.warn(
                { err: errorMessage(err) },
                'cannot tell the manager’s own user name (SelfSubjectReview); pass --service-account so the webhooks let the manager write its own state',
              );
              return undefined;
            })),
          privilegedUsers: parseUserList(stringFlag(args, 'privileged-users') ?? process.env.PRIVILEGED_USERS),
        },
        cache: manager.cache,
        logger,
        registry: manager.registry,
        onListening: () => (listening = true),
      }),
    );
    manager.addReadinessCheck('webhooks', async () => {
      if (!listening) throw new Error('the admission server is not listening yet (waiting for its certificate?)');
    });
  } else {
    logger.info('neither --webhook-cert-dir nor --webhook-cert-secret: admission webhooks are off');
  }
  const secureMetrics = stringFlag(args, 'metrics-secure-addr');
  if (secureMetrics) {
    // /metrics over HTTPS for callers the cluster allows (TokenReview + SubjectAccessReview), beside the plain
    // one on --health-addr.
    const addr = parseHostPort(secureMetrics, 'metrics-secure-addr');
    const tls = await metricsServingPair(stringFlag(args, 'metrics-cert-dir'));
    manager.add({
      name: 'secure-metrics',
      async start(signal: AbortSignal): Promise<void> {
        const server = await startSecureMetricsServer({
          ...addr,
          registry: manager.registry,
          client: kube,
          tls,
          logger,
        });
        logger.info({ port: server.port }, 'secure metrics serving');
        await untilAborted(signal);
        await server.close();
      },
    });
  }
  const vsphereCalls = new Histogram({
    name: 'vmop_vsphere_call_duration_seconds',
    help: 'vSphere SOAP calls by method and fault type ("" when it succeeded).',
    labelNames: ['method', 'fault'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [manager.registry],
  });
  const restCalls = new Histogram({
    name: 'vmop_vsphere_rest_call_duration_seconds',
    help: 'vSphere REST (vAPI) calls by HTTP method and path (IDs replaced by ID).',
    labelNames: ['method', 'path'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [manager.registry],
  });
  const session = new VSphereSession(
    (method, ms, fault) => vsphereCalls.observe({ method, fault: fault ?? '' }, ms / 1000),
    (method, path, ms) => restCalls.observe({ method, path }, ms / 1000),
  );
  // One reading of the provider configuration, shared by both controllers (re-read at most every 5 s).
  const configSource = cachedConfigSource(() => readProviderConfig(kube, namespace));
  const controllers = new Set((stringFlag(args, 'controllers') ?? 'virtualmachine,virtualmachineimage').split(','));
  for (const c of controllers) {
    if (!['virtualmachine', 'virtualmachineimage', 'volumeprovisioner', 'ipam'].includes(c))
      throw new Error(
        `--controllers: unknown controller "${c}" (known: virtualmachine, virtualmachineimage, volumeprovisioner, ipam)`,
      );
  }
  if (controllers.has('virtualmachineimage'))
    manager.addLeaderElected(
      new ImageSync({
        client: kube,
        provider: new VSphereImageProvider(session, configSource),
        namespace,
        intervalMs: Number(stringFlag(args, 'image-sync-interval') ?? 5) * 1000,
        logger: logger.child({ controller: 'virtualmachineimage' }),
      }),
    );
  const vmProvider = new VSphereVMProvider(session, configSource, logger.child({ provider: 'vsphere' }));
  if (controllers.has('virtualmachine'))
    manager.addLeaderElected(
      new VirtualMachineController({
        client: kube,
        provider: vmProvider,
        events: new EventRecorder(kube, 'vmop-controller-manager', logger),
        cache: manager.cache,
        logger: logger.child({ controller: 'virtualmachine' }),
        namespace,
        registry: manager.registry,
        concurrency: positiveNumber(stringFlag(args, 'vm-concurrency') ?? '8', 'vm-concurrency'),
        // Deploys run beside the reconciles; this many at most at once (the rest wait, with a condition).
        maxConcurrentCreates: positiveNumber(
          stringFlag(args, 'max-concurrent-creates') ?? String(DEFAULT_MAX_CONCURRENT_CREATES),
          'max-concurrent-creates',
        ),
        trySoftTimeoutMs: parseDuration(stringFlag(args, 'trysoft-timeout') ?? '300s', 'trysoft-timeout'),
        // "off" keeps orphaned vSphere VMs (their objects are gone) instead of destroying them after the grace.
        orphanGraceMs:
          (stringFlag(args, 'orphan-grace') ?? process.env.VMOP_ORPHAN_GRACE) === 'off'
            ? 0
            : parseDuration(
                stringFlag(args, 'orphan-grace') ?? process.env.VMOP_ORPHAN_GRACE ?? '300s',
                'orphan-grace',
              ),
        resyncMs: 10 * 60 * 1000,
        // Only the VMs with these labels (a label selector), e.g. for a canary manager beside another one.
        vmSelector: stringFlag(args, 'vm-selector') ?? process.env.VMOP_VM_SELECTOR,
      }),
    );
  if (controllers.has('volumeprovisioner'))
    manager.addLeaderElected(
      new VolumeProvisioner({
        client: kube,
        disks: new VSphereDiskProvider(session, configSource),
        events: new EventRecorder(kube, 'vmop-volume-provisioner', logger),
        cache: manager.cache,
        logger: logger.child({ controller: 'volumeprovisioner' }),
        registry: manager.registry,
      }),
    );
  if (controllers.has('ipam'))
    manager.addLeaderElected(
      new IPAMProvider({
        client: kube,
        logger: logger.child({ controller: 'ipam' }),
        registry: manager.registry,
        cache: manager.cache,
      }),
    );
  await manager.run();
  await vmProvider.stop();
  await session.close();
  return manager.lostLeadership ? 1 : 0;
}

/** The user name the API server knows this client as (a SelfSubjectReview). */
async function whoAmI(kube: KubeClient): Promise<string | undefined> {
  const review = await kube.request<{ status?: { userInfo?: { username?: string } } }>(
    'POST',
    apiPath({ apiVersion: 'authentication.k8s.io/v1', resource: 'selfsubjectreviews' }),
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
  );
  return review.status?.userInfo?.username;
}
