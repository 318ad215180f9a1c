// Reads the provider configuration and its credentials Secret from the operator's namespace, each time it is
// needed (they are small), so edits take effect at the next use.
import { KubeAPIError, type KubeClient, type KubeObject } from '../runtime/kube-client.js';
import {
  ConfigError,
  parseProviderConfig,
  PROVIDER_CONFIGMAP,
  type ProviderConfig,
} from '../providers/vsphere/config.js';
import type { Credentials } from '../providers/vsphere/session.js';
import { apiPath, type APIPath } from '../runtime/api-path.js';

export async function readProviderConfig(
  client: KubeClient,
  namespace: string,
): Promise<{ config: ProviderConfig; credentials: Credentials }> {
  const get = async <T extends KubeObject>(path: APIPath, what: string): Promise<T> => {
    try {
      return await client.request<T>('GET', path);
    } catch (err) {
      if (err instanceof KubeAPIError && err.notFound)
        throw new ConfigError(
          `${what} is missing in namespace ${namespace}; create it (see the README, "Provider configuration")`,
        );
      throw err;
    }
  };
  const cm = await get<KubeObject & { data?: Record<string, string> }>(
    apiPath({ apiVersion: 'v1', resource: 'configmaps', namespace, name: PROVIDER_CONFIGMAP }),
    `ConfigMap ${PROVIDER_CONFIGMAP}`,
  );
  const config = parseProviderConfig(cm.data);
  const secret = await get<KubeObject & { data?: Record<string, string> }>(
    apiPath({ apiVersion: 'v1', resource: 'secrets', namespace, name: config.credentialsSecret }),
    `Secret ${config.credentialsSecret}`,
  );
  const decode = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString();
  const username = decode('username');
  const password = decode('password');
  if (!username || !password)
    throw new ConfigError(`Secret ${config.credentialsSecret} needs keys "username" and "password"`);
  return { config, credentials: { username, password } };
}

/**
 * The same reads, remembered for `ttlMs`: a burst of reconciles costs two API reads per interval, not two each,
 * and an edit still takes effect within the interval. A failed read is not remembered.
 */
export function cachedConfigSource(
  read: () => Promise<{ config: ProviderConfig; credentials: Credentials }>,
  ttlMs = 5_000,
): () => Promise<{ config: ProviderConfig; credentials: Credentials }> {
  let last: { at: number; value: Promise<{ config: ProviderConfig; credentials: Credentials }> } | undefined;
  return () => {
    if (last && Date.now() - last.at < ttlMs) return last.value;
    const value = read();
    const entry = { at: Date.now(), value };
    last = entry;
    value.catch(() => {
      if (last === entry) last = undefined;
    });
    return value;
  };
}
