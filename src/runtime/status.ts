// Writing status through the status subresource: read the latest object, apply the change to its status,
// PUT it with that resourceVersion, and on a conflict read again and retry (a few times).
import { KubeAPIError, type KubeClient, type KubeObject } from './kube-client.js';
import { subresourcePath } from './api-path.js';
import { sameJSON } from '../api/json.js';

export async function updateStatus<T extends KubeObject & { status?: unknown }>(
  client: KubeClient,
  ref: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>,
  change: (status: NonNullable<T['status']> | Record<string, never>, obj: T) => T['status'],
  attempts = 5,
): Promise<T> {
  const path = await client.objectPath(ref);
  for (let i = 1; ; i++) {
    const latest = await client.request<T>('GET', path);
    const next = { ...latest, status: change((latest.status ?? {}) as NonNullable<T['status']>, latest) };
    if (sameJSON(next.status, latest.status)) return latest;
    try {
      return await client.request<T>('PUT', subresourcePath(path, 'status'), { body: next });
    } catch (err) {
      if (!(err instanceof KubeAPIError && err.conflict) || i >= attempts) throw err;
    }
  }
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** A condition as a reconcile states it; setCondition keeps or sets its lastTransitionTime. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

/** A condition that holds (reason "True", as VM Operator writes it). */
export function conditionTrue(type: string): ConditionUpdate {
  return { type, status: 'True', reason: 'True', message: '' };
}

/** A condition that does not hold, with the reason and a message that says what to do. */
export function conditionFalse(type: string, reason: string, message: string): ConditionUpdate {
  return { type, status: 'False', reason, message };
}

/** Condition messages are cut to this length: the API refuses more than 32,768, and names in them are input. */
export const MAX_CONDITION_MESSAGE = 4096;

/** `text` cut to `max` characters, with a mark that it was cut. */
export function bounded(text: string, max: number): string {
  const mark = '… (truncated)';
  return text.length <= max ? text : `${text.slice(0, max - mark.length)}${mark}`;
}

/** Sets a condition in a list, keeping lastTransitionTime when the status does not change. */
export function setCondition(
  conditions: Condition[] | undefined,
  c: Omit<Condition, 'lastTransitionTime'>,
  now = new Date(),
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    ...c,
    reason: bounded(c.reason, 1024),
    message: bounded(c.message, MAX_CONDITION_MESSAGE),
    lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now.toISOString(),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export { sameJSON };
