// spec.imageName resolved at create, as VM Operator's mutating webhook does: an image object's name
// (vmi-…) or an image's display name (status.name) that is unique in the VM's scope — its namespace's
// VirtualMachineImages and the ClusterVirtualMachineImages. The answer comes from the manager's shared cache
// (informers over both kinds), so a create costs the API server nothing more.
import { API_VERSION } from '../../api/v1alpha6/common.js';
import type { SharedCache } from '../../runtime/cache.js';
import type { Informer } from '../../runtime/informer.js';
import type { KubeObject } from '../../runtime/kube-client.js';

export interface ImageRef {
  kind: 'VirtualMachineImage' | 'ClusterVirtualMachineImage';
  name: string;
}

/** An image reference, a refusal worded for the field (VM Operator's messages), or nothing known (yet). */
export type ImageResolution = { image: ImageRef } | { error: string } | undefined;

export interface ImageCatalog {
  resolve(namespace: string, imageName: string): Promise<ImageResolution>;
}

/** How long a create waits for the image caches' first list before it goes on without them. */
const SYNC_WAIT_MS = 5_000;

type ImageObject = KubeObject & { status?: { name?: string } };

export class CachedImageCatalog implements ImageCatalog {
  private readonly images: Informer<ImageObject>;
  private readonly clusterImages: Informer<ImageObject>;

  constructor(cache: SharedCache) {
    this.images = cache.informer<ImageObject>({ apiVersion: API_VERSION, kind: 'VirtualMachineImage' });
    this.clusterImages = cache.informer<ImageObject>({ apiVersion: API_VERSION, kind: 'ClusterVirtualMachineImage' });
  }

  start(): void {
    this.images.start();
    this.clusterImages.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.images.stop(), this.clusterImages.stop()]);
  }

  async resolve(namespace: string, imageName: string): Promise<ImageResolution> {
    const synced = await Promise.race([
      Promise.all([this.images.waitForSync(), this.clusterImages.waitForSync()]).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), SYNC_WAIT_MS).unref()),
    ]);
    const byName = imageName.startsWith('vmi-');
    if (!synced) {
      // An object name is resolved later by the controller; a display name cannot be taken unresolved.
      return byName
        ? undefined
        : { error: `the image caches are not ready yet, so "${imageName}" cannot be looked up; retry` };
    }
    if (this.images.get(`${namespace}/${imageName}`))
      return { image: { kind: 'VirtualMachineImage', name: imageName } };
    if (this.clusterImages.get(imageName)) return { image: { kind: 'ClusterVirtualMachineImage', name: imageName } };
    // An object name that does not exist (yet): the VM waits for its image, as it would without the webhook.
    if (byName) return undefined;
    const named = (list: ImageObject[]) => list.filter((i) => i.status?.name === imageName);
    const local = named(this.images.list().filter((i) => i.metadata.namespace === namespace));
    const cluster = named(this.clusterImages.list());
    if (local.length > 1) return { error: `multiple VM images exist for "${imageName}" in namespace scope` };
    if (cluster.length > 1) return { error: `multiple VM images exist for "${imageName}" in cluster scope` };
    if (local.length === 1 && cluster.length === 1) {
      return { error: `multiple VM images exist for "${imageName}" in namespace and cluster scope` };
    }
    if (local[0]) return { image: { kind: 'VirtualMachineImage', name: String(local[0].metadata.name) } };
    if (cluster[0]) return { image: { kind: 'ClusterVirtualMachineImage', name: String(cluster[0].metadata.name) } };
    return { error: `no VM image exists for "${imageName}" in namespace or cluster scope` };
  }
}
