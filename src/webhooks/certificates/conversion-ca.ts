// The CA of the CRDs' conversion webhook when the serving certificate comes from a folder (cert-manager's Secret
// mounted: tls.crt, tls.key, ca.crt). Nothing else sets it then — the chart's CRDs are not templated, so
// cert-manager's CA injector never sees them — so this copies the folder's ca.crt into each CRD that converts
// through this manager's Service (a CRD converting through another Service or a URL is someone else's), at start
// and whenever the file changes (looked at each interval). The Secret-based rotator does the same with its CA.
import { readFile } from 'node:fs/promises';
import { apiPath, type APIPath } from '../../runtime/api-path.js';
import { KubeAPIError, type KubeClient, type KubeObject } from '../../runtime/kube-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Runnable } from '../../runtime/manager.js';
import { pause } from '../../runtime/timeout.js';

export interface CRDConversion {
  strategy?: string;
  webhook?: { clientConfig?: { caBundle?: string; service?: { namespace?: string; name?: string } } };
}

/** JSON patch operations that point a CRD's conversion Service at this replica (caBundle, namespace). */
export function conversionOps(
  conversion: CRDConversion | undefined,
  caBundle: string,
  namespace: string,
  service: string | undefined,
): { op: 'add'; path: string; value: string }[] {
  const config = conversion?.webhook?.clientConfig;
  if (conversion?.strategy !== 'Webhook' || !config?.service || config.service.name !== service) return [];
  const base = '/spec/conversion/webhook/clientConfig';
  return [
    ...(config.caBundle === caBundle ? [] : [{ op: 'add' as const, path: `${base}/caBundle`, value: caBundle }]),
    ...(config.service.namespace !== namespace
      ? [{ op: 'add' as const, path: `${base}/service/namespace`, value: namespace }]
      : []),
  ];
}

interface CRD extends KubeObject {
  spec?: { conversion?: CRDConversion };
}

const CRDS = 'apiextensions.k8s.io/v1';

/** Patches each named CRD that converts through `service` so that it trusts `caBundle` (base64 PEM). */
export async function injectConversionCA(
  client: KubeClient,
  crds: readonly string[],
  caBundle: string,
  namespace: string,
  service: string,
): Promise<string[]> {
  const patched: string[] = [];
  for (const name of crds) {
    // A list by name (what RBAC can restrict to these CRDs), not a get.
    const list = await client.request<{ items?: CRD[] }>(
      'GET',
      apiPath({ apiVersion: CRDS, resource: 'customresourcedefinitions' }),
      {
        query: { fieldSelector: `metadata.name=${name}` },
      },
    );
    const crd = list.items?.[0];
    if (!crd) continue;
    const ops = conversionOps(crd.spec?.conversion, caBundle, namespace, service);
    const path = apiPath({ apiVersion: CRDS, resource: 'customresourcedefinitions', name });
    // (Changed meanwhile: the next look does it.)
    if (ops.length > 0 && (await patchAsSeen(client, path, crd, ops))) patched.push(name);
  }
  return patched;
}

/**
 * JSON-patches `obj` at `path` only if it is still the version it was read in (the operations' list indexes
 * hold for that version alone); false when it changed meanwhile (409 or the failed test, 422).
 */
export async function patchAsSeen(
  client: KubeClient,
  path: APIPath,
  obj: KubeObject,
  ops: readonly { op: string; path: string; value: unknown }[],
): Promise<boolean> {
  try {
    await client.request('PATCH', path, {
      body: [{ op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion }, ...ops],
      contentType: 'application/json-patch+json',
    });
    return true;
  } catch (err) {
    if (err instanceof KubeAPIError && (err.statusCode === 409 || err.statusCode === 422)) return false;
    throw err;
  }
}

export interface ConversionCAOptions {
  client: KubeClient;
  crds: readonly string[];
  /** The certificate folder's CA file (ca.crt). */
  caFile: string;
  namespace: string;
  service: string;
  intervalMs: number;
  logger: Logger;
}

export class ConversionCABundle implements Runnable {
  readonly name = 'conversion-ca-bundle';
  private last?: string;
  constructor(private readonly opts: ConversionCAOptions) {}

  async start(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.once().catch((err: unknown) =>
        this.opts.logger.warn({ err }, 'cannot set the conversion webhook’s caBundle'),
      );
      await pause(signal, this.opts.intervalMs);
    }
  }

  /** One look: the CA file, when it exists and changed (or was never written), into the CRDs. */
  async once(): Promise<void> {
    const pem = await readFile(this.opts.caFile, 'utf8').catch(() => undefined);
    if (!pem) return; // a certificate folder without a CA: whoever made it sets the caBundle
    const caBundle = Buffer.from(pem, 'utf8').toString('base64');
    if (caBundle === this.last) return;
    const { client, crds, namespace, service } = this.opts;
    const patched = await injectConversionCA(client, crds, caBundle, namespace, service);
    if (patched.length > 0) this.opts.logger.info({ crds: patched }, 'conversion webhook caBundle updated');
    this.last = caBundle;
  }
}
