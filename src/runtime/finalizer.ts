// The finalizer helper: a reconcile is either Apply (the object lives: make sure our finalizer is on it) or
// Cleanup (it is being deleted: clean up, then take our finalizer off so the API server can remove it).
// Both writes carry the object's resourceVersion, so a stale read conflicts instead of clobbering.
import type { KubeClient, KubeObject } from './kube-client.js';

export type FinalizerPhase<T> = { kind: 'apply'; obj: T } | { kind: 'cleanup'; obj: T };

export function phaseOf<T extends KubeObject & { metadata: { deletionTimestamp?: string } }>(
  obj: T,
): FinalizerPhase<T> {
  return obj.metadata.deletionTimestamp ? { kind: 'cleanup', obj } : { kind: 'apply', obj };
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
