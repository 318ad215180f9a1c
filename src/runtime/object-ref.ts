// Typed work-queue keys for controllers that reconcile more than one kind: a key names the kind, namespace and
// name of an object (as kube-rs' ObjectRef does); the queue stores it as one string, made and read only here.

export interface ObjectRef<K extends string = string> {
  kind: K;
  namespace?: string;
  name: string;
}

/** The queue key of `ref` (kinds and namespaces contain no "/" or ":", so the key reads back unambiguously). */
export function refKey<K extends string>(ref: ObjectRef<K>): string {
  return `${ref.kind}:${ref.namespace ?? ''}/${ref.name}`;
}

/** The ObjectRef of a key made by refKey; throws on anything else. */
export function parseRefKey<K extends string>(key: string, kinds: readonly K[]): ObjectRef<K> & { key: string } {
  const m = /^([^:/]+):([^/]*)\/(.+)$/.exec(key);
  const kind = m?.[1] as K | undefined;
  if (!m || !kind || !kinds.includes(kind)) throw new Error(`not a queue key of ${kinds.join(' or ')}: ${key}`);
  const namespace = m[2] || undefined;
  return { kind, ...(namespace ? { namespace } : {}), name: m[3]!, key: namespace ? `${namespace}/${m[3]}` : m[3]! };
}
