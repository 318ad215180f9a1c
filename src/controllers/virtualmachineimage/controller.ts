// Mirrors content library items into ClusterVirtualMachineImages (libraries bound to the cluster) and
// VirtualMachineImages (libraries bound to a namespace), named vmi-<hash of the item ID>. vSphere has no change
// feed for content libraries, so this polls them and the bindings ConfigMap every few seconds (one listing per
// library; an item's OVF is read again only when its content version changes).
import { imageResourceName } from '../../api/v1alpha3/image-name.js';
import { API_VERSION } from '../../api/v1alpha6/common.js';
import { KubeAPIError, type KubeClient, type KubeObject } from '../../runtime/kube-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Runnable } from '../../runtime/manager.js';
import { sameJSON, setCondition, type Condition } from '../../runtime/status.js';
import type { ImageProvider, LibraryImage } from '../../providers/interface.js';
import { LIBRARIES_CONFIGMAP, parseLibraryBindings } from './library-bindings.js';
import { apiPath, memberPath, subresourcePath } from '../../runtime/api-path.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'vmop';
const OS_LABEL = 'os.image.vmoperator.vmware.com';
const CAPABILITY_LABEL = 'capability.image.vmoperator.vmware.com';

interface ImageObject extends KubeObject {
  status?: Record<string, unknown> & {
    providerContentVersion?: string;
    providerItemID?: string;
    conditions?: Condition[];
  };
}

export interface ImageSyncOptions {
  client: KubeClient;
  provider: ImageProvider;
  /** The operator's namespace, where vmop-content-libraries lives. */
  namespace: string;
  intervalMs?: number;
  logger: Logger;
}

/** The status an image object gets for a library item. */
export function imageStatus(image: LibraryImage, previous?: ImageObject['status']): Record<string, unknown> {
  const d = image.details;
  const base = d
    ? {
        name: image.name,
        type: image.type,
        providerItemID: image.itemID,
        providerContentVersion: image.contentVersion,
        ...(d.firmware ? { firmware: d.firmware } : {}),
        ...(d.hardwareVersion ? { hardwareVersion: d.hardwareVersion } : {}),
        osInfo: {
          ...(d.osID ? { id: d.osID } : {}),
          ...(d.osType ? { type: d.osType } : {}),
          ...(d.osVersion ? { version: d.osVersion } : {}),
        },
        productInfo: d.product ?? {},
        ...(d.capabilities.length ? { capabilities: d.capabilities } : {}),
        ...(d.properties.some((p) => p.userConfigurable)
          ? {
              ovfProperties: d.properties
                .filter((p) => p.userConfigurable)
                .map((p) => ({ key: p.key, type: p.type, ...(p.default ? { default: p.default } : {}) })),
            }
          : {}),
        // As VM Operator reports them: each disk by name, its capacity as both limit and requested size.
        ...(d.disks.length
          ? {
              disks: d.disks.map((k) => ({
                name: k.name,
                limit: String(k.capacityBytes),
                requested: String(k.capacityBytes),
              })),
            }
          : {}),
      }
    : {
        ...previous,
        name: image.name,
        type: image.type,
        providerItemID: image.itemID,
        providerContentVersion: image.contentVersion,
      };
  return {
    ...base,
    conditions: setCondition(previous?.conditions, {
      type: 'Ready',
      status: 'True',
      reason: 'ItemSynced',
      message: '',
    }),
  };
}

function labelsFor(image: LibraryImage): Record<string, string> {
  const labels: Record<string, string> = { [MANAGED_BY_LABEL]: MANAGED_BY };
  const d = image.details;
  if (d?.osType) labels[`${OS_LABEL}/type`] = d.osType;
  for (const c of d?.capabilities ?? []) labels[`${CAPABILITY_LABEL}/${c}`] = '';
  return labels;
}

export class ImageSync implements Runnable {
  readonly name = 'virtualmachineimage';
  private wake?: () => void;

  constructor(private readonly opts: ImageSyncOptions) {}

  async start(signal: AbortSignal): Promise<void> {
    const onAbort = () => this.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    while (!signal.aborted) {
      try {
        await this.sync();
      } catch (err) {
        this.opts.logger.warn({ err: err instanceof Error ? err.message : err }, 'image sync failed; trying again');
      }
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.intervalMs ?? 5000);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    signal.removeEventListener('abort', onAbort);
  }

  /** One pass: create, update and delete image objects so they match the bound libraries' items. */
  async sync(): Promise<void> {
    const { client } = this.opts;
    const cm = await client
      .request<KubeObject & { data?: Record<string, string> }>(
        'GET',
        apiPath({
          apiVersion: 'v1',
          resource: 'configmaps',
          namespace: this.opts.namespace,
          name: LIBRARIES_CONFIGMAP,
        }),
      )
      .catch((err: unknown) => {
        if (err instanceof KubeAPIError && err.notFound) return undefined;
        throw err;
      });
    const bindings = parseLibraryBindings(cm?.data);
    await this.syncScope('ClusterVirtualMachineImage', undefined, bindings.cluster);
    const namespaces = new Set([...Object.keys(bindings.namespaces), ...(await this.namespacesWithImages())]);
    for (const ns of namespaces) await this.syncScope('VirtualMachineImage', ns, bindings.namespaces[ns] ?? []);
  }

  private async namespacesWithImages(): Promise<string[]> {
    const path = await this.opts.client.collectionPath(API_VERSION, 'VirtualMachineImage');
    const list = await this.opts.client.request<{ items: ImageObject[] }>('GET', path, {
      query: { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` },
    });
    return [...new Set(list.items.map((i) => i.metadata.namespace as string))];
  }

  private async syncScope(
    kind: 'ClusterVirtualMachineImage' | 'VirtualMachineImage',
    namespace: string | undefined,
    libraries: string[],
  ): Promise<void> {
    const { client, provider, logger } = this.opts;
    const path = await client.collectionPath(API_VERSION, kind, namespace);
    const existing = new Map(
      (
        await client.request<{ items: ImageObject[] }>('GET', path, {
          query: { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` },
        })
      ).items.map((o) => [o.metadata.name as string, o]),
    );
    const known = new Map<string, string>();
    for (const o of existing.values()) {
      // Disks without names come from a release before images named them: their details are read again.
      const unnamed = Array.isArray(o.status?.disks) && o.status.disks.some((d) => !(d as { name?: unknown }).name);
      if (o.status?.providerItemID && o.status.providerContentVersion && !unnamed)
        known.set(o.status.providerItemID, o.status.providerContentVersion);
    }
    const desired = new Map<string, LibraryImage>();
    for (const library of libraries) {
      for (const image of await provider.listLibraryImages(library, known))
        desired.set(imageResourceName(image.itemID), image);
    }
    for (const [name, image] of desired) {
      let obj = existing.get(name);
      if (!obj) {
        obj = await client.create<ImageObject>({
          apiVersion: API_VERSION,
          kind,
          metadata: { name, ...(namespace ? { namespace } : {}), labels: labelsFor(image) },
          spec: {},
        });
        logger.info({ kind, name, namespace, item: image.name }, 'image mirrored');
      } else if (image.details) {
        obj = await client.request<ImageObject>('PATCH', memberPath(path, name), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { labels: labelsFor(image) } },
        });
      }
      const status = imageStatus(image, obj.status);
      if (!sameJSON(status, obj.status)) {
        await client.request('PUT', subresourcePath(memberPath(path, name), 'status'), { body: { ...obj, status } });
      }
    }
    for (const [name] of existing) {
      if (desired.has(name)) continue;
      await client.deleteIfPresent(memberPath(path, name));
      logger.info({ kind, name, namespace }, 'image removed: its library item is gone or no longer bound');
    }
  }
}
