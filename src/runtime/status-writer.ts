// One status write per reconcile: the steps of a reconcile add fields and conditions to a StatusDraft, and
// the StatusWriter writes it once at the end — nothing when the status already says it all, else one PUT on
// the resourceVersion last seen (the cache's, or this writer's own last write when the cache has not caught
// up), and a read-modify-write when that conflicts.
import { sameJSON } from '../api/json.js';
import { KubeAPIError, type KubeClient, type KubeObject } from './kube-client.js';
import type { Logger } from './logger.js';
import { objectKey } from './informer.js';
import {
  conditionFalse,
  conditionTrue,
  setCondition,
  updateStatus,
  type Condition,
  type ConditionUpdate,
} from './status.js';

type WithStatus<S> = KubeObject & { metadata: { uid?: string; generation?: number }; status?: S };

/** What one reconcile has to say in an object's status; `obj` is the object as last stored by its steps. */
export class StatusDraft<S extends { conditions?: Condition[] }, T extends WithStatus<S> = WithStatus<S>> {
  fields: Partial<S> = {};
  readonly conditions: ConditionUpdate[] = [];
  /**
   * Not written: the reconcile started something that usually ends within moments, whose end writes the
   * whole status (a later look writes the progress if it does not).
   */
  deferred = false;

  constructor(public obj: T) {}

  condition(c: ConditionUpdate): void {
    this.conditions.push(c);
  }

  ok(type: string): void {
    this.condition(conditionTrue(type));
  }

  fail(type: string, reason: string, message: string): void {
    this.condition(conditionFalse(type, reason, message));
  }
}

export class StatusWriter<S extends { conditions?: Condition[] }, T extends WithStatus<S> = WithStatus<S>> {
  /** The status this writer last wrote, by key, with the resourceVersion it got. */
  private readonly written = new Map<string, { uid?: string; resourceVersion: string; status: S }>();

  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
  ) {}

  /** Forgets what was written for a key (its object is gone). */
  forget(key: string): void {
    this.written.delete(key);
  }

  /** Merges the draft's fields and conditions into the object's status and writes it, if anything changed. */
  async write(draft: StatusDraft<S, T>): Promise<void> {
    if (draft.deferred) return;
    const { obj: vm, fields, conditions } = draft;
    const merge = (prev: S): S => {
      let list = prev.conditions;
      for (const c of conditions) list = setCondition(list, { ...c, observedGeneration: vm.metadata.generation });
      return { ...prev, ...fields, ...(list ? { conditions: list } : {}) };
    };
    // The cache may not have caught up with the status this writer wrote last (the reconcile was woken by an
    // earlier event): then that write is the base, not the older cached copy.
    const key = objectKey(vm);
    const last = this.written.get(key);
    let base = vm;
    if (last && last.uid === vm.metadata.uid && newerVersion(last.resourceVersion, vm.metadata.resourceVersion)) {
      base = { ...vm, metadata: { ...vm.metadata, resourceVersion: last.resourceVersion }, status: last.status };
    }
    const current = (base.status ?? {}) as S;
    const next = merge(current);
    if (sameJSON(next, current)) return;
    if (this.logger.isLevelEnabled('debug')) {
      const [was, now] = [current as Record<string, unknown>, next as Record<string, unknown>];
      const changed = Object.keys({ ...was, ...now }).filter((k) => !sameJSON(was[k], now[k]));
      this.logger.debug({ key, changed, resourceVersion: base.metadata.resourceVersion }, 'writing status');
    }
    let stored: T;
    try {
      stored = await this.client.request<T>('PUT', await this.client.objectPath(vm, 'status'), {
        body: { ...base, status: next },
      });
    } catch (err) {
      if (!(err instanceof KubeAPIError && err.conflict)) throw err;
      stored = await updateStatus<T>(this.client, vm, (s) => merge(s as S));
    }
    this.written.set(key, {
      uid: vm.metadata.uid,
      resourceVersion: String(stored.metadata.resourceVersion),
      status: (stored.status ?? {}) as S,
    });
  }
}

/** Whether resourceVersion `a` is later than `b` (etcd revisions; false when either is not a number). */
function newerVersion(a: string | undefined, b: unknown): boolean {
  try {
    return a !== undefined && typeof b === 'string' && BigInt(a) > BigInt(b);
  } catch {
    return false;
  }
}
