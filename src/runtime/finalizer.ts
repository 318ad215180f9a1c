// The finalizer helper: a reconcile of an object that holds one of our finalizers is either Apply (the object
// lives: the finalizer goes on first, so a delete always waits for our cleanup) or Cleanup (it is being
// deleted: clean up, then take the finalizer off so the API server can remove it). Both writes carry the
// object's resourceVersion, so a stale read conflicts instead of clobbering. Used by every controller that
// owns something outside Kubernetes (the VM controller's vSphere VMs, the volume provisioner's disks).
import type { KubeClient, KubeObject } from './kube-client.js';

type Deletable = KubeObject & { metadata: { deletionTimestamp?: string } };

export interface FinalizerHandlers<T extends Deletable, R> {
  /** The object lives (and holds the finalizer when `ensure`). */
  apply(obj: T): Promise<R>;
  /** The object is being deleted and holds the finalizer: release what it owns; return the object as last
   * stored (writes on the way change the resourceVersion the finalizer's removal is conditioned on), or
   * undefined while the release is still under way (the finalizer stays; something wakes the key later). */
  cleanup(obj: T): Promise<T | undefined>;
  /** Whether Apply puts the finalizer on when it is missing (default true). */
  ensure?: boolean;
}

/**
 * Runs `apply` or `cleanup` for `obj`. A deleted object without the finalizer is nothing of ours any more:
 * neither runs. When cleanup throws, the finalizer stays and the error goes to the caller (to be retried).
 */
export async function finalized<T extends Deletable, R>(
  client: KubeClient,
  obj: T,
  finalizer: string,
  handlers: FinalizerHandlers<T, R>,
): Promise<R | undefined> {
  if (obj.metadata.deletionTimestamp) {
    if (!finalizersOf(obj).includes(finalizer)) return undefined;
    const last = await handlers.cleanup(obj);
    if (last) await removeFinalizer(client, last, finalizer);
    return undefined;
  }
  const live = handlers.ensure === false ? obj : await ensureFinalizer(client, obj, finalizer);
  return handlers.apply(live);
}

function finalizersOf(obj: KubeObject): string[] {
  return (obj.metadata.finalizers as string[] | undefined) ?? [];
}

/** Adds `finalizer` unless present; returns the object as stored. */
export async function ensureFinalizer<T extends KubeObject>(client: KubeClient, obj: T, finalizer: string): Promise<T> {
  if (finalizersOf(obj).includes(finalizer)) return obj;
  return client.request<T>('PATCH', await client.objectPath(obj), {
    contentType: 'application/merge-patch+json',
    body: {
      metadata: { finalizers: [...finalizersOf(obj), finalizer], resourceVersion: obj.metadata.resourceVersion },
    },
  });
}

/** Removes `finalizer` if present. */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  obj: T,
  finalizer: string,
): Promise<void> {
  if (!finalizersOf(obj).includes(finalizer)) return;
  await client.request('PATCH', await client.objectPath(obj), {
    contentType: 'application/merge-patch+json',
    body: {
      metadata: {
        finalizers: finalizersOf(obj).filter((f) => f !== finalizer),
        resourceVersion: obj.metadata.resourceVersion,
      },
    },
  });
}
