// The admission server's certificate in a cluster without cert-manager. Every replica runs this: it watches
// one Secret (type kubernetes.io/tls, with the CA beside the serving pair), creates or renews its contents
// when planCertificates says so, and keeps the caBundle of vmop's two webhook configurations (and of the CRDs'
// conversion webhook) equal to the Secret's CA bundle. Replicas coordinate through the API server's optimistic concurrency: a write made from
// a stale copy gets 409 Conflict and the replica simply plans again from the newer Secret it then sees.
// The serving pair is handed to the HTTPS server as soon as it changes (no wait for a kubelet volume sync).
import { Gauge, type Registry } from 'prom-client';
import { Informer } from '../../runtime/informer.js';
import { KubeAPIError, type KubeClient, type KubeObject } from '../../runtime/kube-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Runnable } from '../../runtime/manager.js';
import type { CertificateSource, ServingPair } from '../server.js';
import { planCertificates, type CertificateData, type CertificatePolicy } from './plan.js';
import { X509Certificate } from 'node:crypto';
import { apiPath } from '../../runtime/api-path.js';
import { untilAborted } from '../../runtime/timeout.js';
import { conversionOps, patchAsSeen, type CRDConversion } from './conversion-ca.js';

interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

interface WebhookConfiguration extends KubeObject {
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
  spec?: { conversion?: CRDConversion };
}

export interface CertificateRotatorOptions {
  client: KubeClient;
  namespace: string;
  secretName: string;
  /** The webhook configurations whose caBundle follows the Secret (either may be omitted). */
  mutatingConfiguration?: string;
  validatingConfiguration?: string;
  /**
   * CRDs whose conversion webhook may be served here: their caBundle follows too, when their conversion goes to
   * `service` (a CRD that converts through another Service or a URL belongs to someone else).
   */
  conversionCRDs?: string[];
  /** The webhook Service (name) the certificate is for. */
  service?: string;
  policy: CertificatePolicy;
  logger: Logger;
  registry?: Registry;
}

const ADMISSION = 'admissionregistration.k8s.io/v1';
const CRDS = 'apiextensions.k8s.io/v1';
const KEYS = ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'] as const;

function decode(secret: Secret | undefined): Partial<CertificateData> | undefined {
  if (!secret?.data) return undefined;
  const out: Partial<CertificateData> = {};
  for (const k of KEYS) if (secret.data[k]) out[k] = Buffer.from(secret.data[k], 'base64').toString('utf8');
  return out;
}

function encode(data: CertificateData): Record<string, string> {
  return Object.fromEntries(KEYS.map((k) => [k, Buffer.from(data[k], 'utf8').toString('base64')]));
}

export class CertificateRotator implements Runnable, CertificateSource {
  readonly name = 'webhook-certificates';
  private readonly secrets: Informer<Secret>;
  private readonly configurations: {
    informer: Informer<WebhookConfiguration>;
    name: string;
    resource: string;
    apiVersion: string;
  }[] = [];
  private pair?: ServingPair;
  private readonly waiters: ((p: ServingPair) => void)[] = [];
  private readonly listeners: ((p: ServingPair) => void)[] = [];
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;
  private retryMs = 1000;
  private readonly expiry?: Gauge;
  /** Renewals this replica wrote (for tests and logs). */
  renewals = 0;

  constructor(private readonly opts: CertificateRotatorOptions) {
    const byName = (name: string) => `metadata.name=${name}`;
    this.secrets = new Informer<Secret>(opts.client, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: opts.namespace,
      fieldSelector: byName(opts.secretName),
      logger: opts.logger,
    });
    for (const [kind, name] of [
      ['MutatingWebhookConfiguration', opts.mutatingConfiguration],
      ['ValidatingWebhookConfiguration', opts.validatingConfiguration],
    ] as const) {
      if (!name) continue;
      const informer = new Informer<WebhookConfiguration>(opts.client, {
        apiVersion: ADMISSION,
        kind,
        fieldSelector: byName(name),
        logger: opts.logger,
      });
      this.configurations.push({ informer, name, resource: `${kind.toLowerCase()}s`, apiVersion: ADMISSION });
    }
    for (const name of opts.conversionCRDs ?? []) {
      const informer = new Informer<WebhookConfiguration>(opts.client, {
        apiVersion: CRDS,
        kind: 'CustomResourceDefinition',
        fieldSelector: byName(name),
        logger: opts.logger,
      });
      this.configurations.push({ informer, name, resource: 'customresourcedefinitions', apiVersion: CRDS });
    }
    this.expiry = opts.registry
      ? new Gauge({
          name: 'vmop_webhook_certificate_expiry_timestamp_seconds',
          help: 'When the serving certificate the admission server uses expires (Unix time).',
          registers: [opts.registry],
        })
      : undefined;
  }

  // ---- CertificateSource ----

  current(): Promise<ServingPair> {
    return this.pair ? Promise.resolve(this.pair) : new Promise((resolve) => this.waiters.push(resolve));
  }

  onChange(listener: (pair: ServingPair) => void): void {
    this.listeners.push(listener);
  }

  // ---- Runnable ----

  async start(signal: AbortSignal): Promise<void> {
    this.secrets.on((event, secret) => {
      if (event !== 'delete') this.serve(secret);
      this.kick();
    });
    for (const { informer } of this.configurations) informer.on(() => this.kick());
    const informers = [this.secrets, ...this.configurations.map((c) => c.informer)];
    for (const i of informers) i.start();
    await Promise.all(informers.map((i) => i.waitForSync()));
    this.kick();
    await untilAborted(signal);
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(informers.map((i) => i.stop()));
  }

  /** Hands a new serving pair from the Secret to the server. */
  private serve(secret: Secret): void {
    const data = decode(secret);
    if (!data?.['tls.crt'] || !data['tls.key']) return;
    if (this.pair && this.pair.cert === data['tls.crt'] && this.pair.key === data['tls.key']) return;
    const pair = { cert: data['tls.crt'], key: data['tls.key'] };
    try {
      this.expiry?.set(new Date(new X509Certificate(pair.cert).validTo).getTime() / 1000);
    } catch {
      return; // not a certificate: the next reconcile replaces it
    }
    const first = !this.pair;
    this.pair = pair;
    if (first) for (const w of this.waiters.splice(0)) w(pair);
    else {
      this.opts.logger.info({ secret: this.opts.secretName }, 'webhook serving certificate replaced');
      for (const l of this.listeners) l(pair);
    }
  }

  /** Runs a reconcile now, or once more after the one in flight. */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.reconcile()
      .then((nextCheck) => {
        this.retryMs = 1000;
        this.schedule(nextCheck.getTime() - Date.now());
      })
      .catch((err: unknown) => {
        this.opts.logger.warn(
          { err: err instanceof Error ? err.message : err, retryInMs: this.retryMs },
          'cannot keep the webhook certificate current; retrying',
        );
        this.schedule(this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 30_000);
      })
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    // setTimeout holds at most ~24.8 days; look again at least hourly anyway.
    this.timer = setTimeout(() => this.kick(), Math.max(1000, Math.min(ms, 3_600_000)));
    this.timer.unref();
  }

  private async reconcile(): Promise<Date> {
    const { client, namespace, secretName, logger } = this.opts;
    const secret = this.secrets.get(`${namespace}/${secretName}`);
    const plan = planCertificates(decode(secret), new Date(), this.opts.policy);
    let caBundle = decode(secret)?.['ca.crt'];
    if (plan.data) {
      const body: Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: secretName,
          namespace,
          labels: { 'app.kubernetes.io/part-of': 'vmop' },
          ...(secret ? { resourceVersion: secret.metadata.resourceVersion } : {}),
        },
        type: 'kubernetes.io/tls',
        data: encode(plan.data),
      };
      try {
        const written = secret
          ? await client.request<Secret>(
              'PUT',
              apiPath({ apiVersion: 'v1', resource: 'secrets', namespace, name: secretName }),
              {
                body,
              },
            )
          : await client.request<Secret>('POST', apiPath({ apiVersion: 'v1', resource: 'secrets', namespace }), {
              body,
            });
        this.renewals++;
        logger.info({ secret: secretName, reasons: plan.reasons }, 'webhook certificates written');
        this.serve(written);
        caBundle = plan.data['ca.crt'];
      } catch (err) {
        // Another replica wrote first: its Secret arrives through the watch and triggers another round.
        if (err instanceof KubeAPIError && (err.statusCode === 409 || err.statusCode === 422)) {
          logger.debug({ secret: secretName }, 'webhook certificate Secret changed meanwhile; planning again');
          return new Date(Date.now() + 1000);
        }
        throw err;
      }
    }
    if (caBundle) await this.injectCABundle(Buffer.from(caBundle, 'utf8').toString('base64'));
    return plan.nextCheck;
  }

  /** Sets every webhook's clientConfig.caBundle in the configurations that differ. */
  private async injectCABundle(caBundle: string): Promise<void> {
    for (const { informer, name, resource, apiVersion } of this.configurations) {
      const cfg = informer.get(name);
      if (!cfg) continue; // not installed (yet): the watch calls again when it is
      const conversion = cfg.spec?.conversion;
      const ops =
        apiVersion === CRDS
          ? conversionOps(conversion, caBundle, this.opts.namespace, this.opts.service)
          : (cfg.webhooks ?? []).flatMap((w, i) =>
              w.clientConfig?.caBundle === caBundle
                ? []
                : [{ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle }],
            );
      if (ops.length === 0) continue;
      // (A newer version exists when this is false; its watch event triggers another round.)
      if (await patchAsSeen(this.opts.client, apiPath({ apiVersion, resource, name }), cfg, ops)) {
        this.opts.logger.info({ configuration: name }, 'webhook caBundle updated');
      }
    }
  }
}
