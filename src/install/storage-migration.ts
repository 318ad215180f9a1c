// Moves objects stored in an older version onto the storage version (the hub) after an upgrade: every object
// of each converted CRD is read and written back unchanged, which makes the API server store it anew in the
// storage version (the conversion webhook turns the old layout into the new on the way), and then the CRD's
// status.storedVersions is cut down to the storage version alone — what must hold before an old version can
// stop being served. Safe to run again, and beside a running manager.
import { CONVERTED_CRDS } from '../crd/definitions.js';
import { HUB_VERSION } from '../api/versions.js';
import { apiPath } from '../runtime/api-path.js';
import { KubeAPIError, type KubeClient, type KubeObject } from '../runtime/kube-client.js';

interface CRD extends KubeObject {
  spec: { group: string; names: { plural: string } };
  status?: { storedVersions?: string[] };
}

interface List {
  items?: KubeObject[];
  metadata?: { continue?: string };
}

export interface MigrationResult {
  crd: string;
  /** Stored versions before the migration. */
  before: string[];
  /** Objects the API server stored anew (a new resourceVersion: they were held in an older version). */
  rewritten: number;
}

const CRDS = 'apiextensions.k8s.io/v1';

/**
 * Writes one object back as read; true when the API server stored it anew (it skips a write whose bytes equal
 * what it holds, so an object already in the storage version keeps its resourceVersion). A conflict means
 * someone else wrote it meanwhile, in the storage version.
 */
async function rewrite(client: KubeClient, apiVersion: string, plural: string, obj: KubeObject): Promise<boolean> {
  const path = apiPath({ apiVersion, resource: plural, namespace: obj.metadata.namespace, name: obj.metadata.name });
  try {
    const written = await client.request<KubeObject>('PUT', path, { body: obj });
    return written.metadata.resourceVersion !== obj.metadata.resourceVersion;
  } catch (err) {
    if (err instanceof KubeAPIError && (err.conflict || err.notFound)) return false;
    throw err;
  }
}

export async function migrateStorage(
  client: KubeClient,
  say: (line: string) => void = () => {},
): Promise<MigrationResult[]> {
  const results: MigrationResult[] = [];
  for (const name of CONVERTED_CRDS) {
    const crd = await client.request<CRD>(
      'GET',
      apiPath({ apiVersion: CRDS, resource: 'customresourcedefinitions', name }),
    );
    const before = crd.status?.storedVersions ?? [];
    const apiVersion = `${crd.spec.group}/${HUB_VERSION}`;
    let rewritten = 0;
    if (before.some((v) => v !== HUB_VERSION)) {
      let token: string | undefined;
      do {
        const list: List = await client.request<List>('GET', apiPath({ apiVersion, resource: crd.spec.names.plural }), {
          query: { limit: '500', continue: token },
        });
        for (const obj of list.items ?? []) {
          if (await rewrite(client, apiVersion, crd.spec.names.plural, { ...obj, apiVersion })) rewritten++;
        }
        token = list.metadata?.continue || undefined;
        say(`${name}: ${rewritten} objects stored anew in ${HUB_VERSION}`);
      } while (token);
    }
    if (before.length !== 1 || before[0] !== HUB_VERSION) {
      await client.request(
        'PATCH',
        apiPath({ apiVersion: CRDS, resource: 'customresourcedefinitions', name, subresource: 'status' }),
        {
          contentType: 'application/merge-patch+json',
          body: { status: { storedVersions: [HUB_VERSION] } },
        },
      );
    }
    say(`${name}: stored versions ${before.join(', ') || '(none)'} → ${HUB_VERSION}`);
    results.push({ crd: name, before, rewritten });
  }
  return results;
}
