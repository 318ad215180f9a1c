// The provider configuration an admin manages in the operator's namespace: the ConfigMap
// vmop-provider-config (vCenter address, TLS, datacenter, zones) with the Secret it names for credentials.
// (Which content libraries become images is the image controller's: controllers/virtualmachineimage.)
import YAML from 'yaml';

export const PROVIDER_CONFIGMAP = 'vmop-provider-config';

export interface ProviderConfig {
  /** vCenter base URL, e.g. https://vcenter.example.com. */
  vcenter: string;
  datacenter: string;
  tls: { ca?: string; thumbprint?: string; insecure?: boolean };
  credentialsSecret: string;
  /** The vSphere network new VMs' NICs connect to (until networks are Kubernetes objects). */
  network: string;
  /** Zone name → the vSphere cluster it is. */
  zones: Record<string, { cluster: string }>;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads vmop-provider-config's data; every problem names the key and what to write there. */
export function parseProviderConfig(data: Record<string, string> | undefined): ProviderConfig {
  const d = data ?? {};
  const where = `ConfigMap ${PROVIDER_CONFIGMAP}`;
  if (!d.vcenter)
    throw new ConfigError(
      `${where}: key "vcenter" is missing; set it to the vCenter URL, e.g. https://vcenter.example.com`,
    );
  let url: URL;
  try {
    url = new URL(d.vcenter);
  } catch {
    throw new ConfigError(`${where}: key "vcenter" is not a URL: ${JSON.stringify(d.vcenter)}`);
  }
  if (url.protocol !== 'https:') throw new ConfigError(`${where}: key "vcenter" must be an https:// URL`);
  if (url.username || url.password)
    throw new ConfigError(
      `${where}: key "vcenter" must not hold credentials; put them in the Secret named by "credentialsSecret"`,
    );
  let zones: ProviderConfig['zones'] = {};
  if (d.zones) {
    const parsed = YAML.parse(d.zones) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`${where}: key "zones" must map zone names to {cluster: NAME}`);
    }
    for (const [zone, v] of Object.entries(parsed as Record<string, unknown>)) {
      const cluster = (v as { cluster?: unknown } | null)?.cluster;
      if (typeof cluster !== 'string' || !cluster) throw new ConfigError(`${where}: zone "${zone}" needs a "cluster"`);
      zones[zone] = { cluster };
    }
  } else zones = {};
  return {
    vcenter: url.origin,
    datacenter: d.datacenter || 'DC0',
    tls: { ca: d.caBundle || undefined, thumbprint: d.thumbprint || undefined, insecure: d.insecure === 'true' },
    credentialsSecret: d.credentialsSecret || 'vmop-vcenter-credentials',
    network: d.network || 'VM Network',
    zones,
  };
}
