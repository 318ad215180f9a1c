// An informer: a local cache of one resource kind kept by list + watch. It relists when the API server
// answers 410 Gone, reconnects with backoff after any other error or a closed stream, and replays the whole
// cache on a resync period so level-triggered reconcilers see every object again now and then.
import type { Logger } from './logger.js';
import { KubeAPIError, type KubeClient, type KubeObject } from './kube-client.js';
import type { APIPath } from './api-path.js';

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';

export interface InformerOptions {
  apiVersion: string;
  kind: string;
  /** Only this namespace; all when omitted. */
  namespace?: string;
  labelSelector?: string;
  /** e.g. `metadata.name=NAME`: one object, which RBAC can then grant by resourceNames. */
  fieldSelector?: string;
  resyncMs?: number;
  logger?: Logger;
  /** First and largest pause between reconnects after errors. */
  backoffMs?: { initial: number; max: number };
}

export function objectKey(obj: Pick<KubeObject, 'metadata'>): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : String(obj.metadata.name);
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: ((event: InformerEvent, obj: T, old?: T) => void)[] = [];
  private readonly abort = new AbortController();
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private running?: Promise<void>;
  private resyncTimer?: NodeJS.Timeout;
  /** Counts of lists and watches made, for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, relists410: 0, errors: 0 };

  constructor(
    private readonly client: KubeClient,
    private readonly opts: InformerOptions,
  ) {}

  on(handler: (event: InformerEvent, obj: T, old?: T) => void): void {
    this.handlers.push(handler);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has filled the cache. */
  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    this.running ??= this.run();
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => {
        for (const obj of this.cache.values()) this.emit('resync', obj);
      }, this.opts.resyncMs);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.running?.catch(() => undefined);
  }

  private emit(event: InformerEvent, obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        h(event, obj, old);
      } catch (err) {
        this.opts.logger?.error({ err, kind: this.opts.kind }, 'informer handler failed');
      }
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const backoff = this.opts.backoffMs ?? { initial: 200, max: 10_000 };
    let delay = backoff.initial;
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      try {
        const path = await this.client.collectionPath(this.opts.apiVersion, this.opts.kind, this.opts.namespace);
        if (!resourceVersion) resourceVersion = await this.relist(path);
        this.stats.watches++;
        await this.client.watch(
          path,
          {
            resourceVersion,
            allowWatchBookmarks: 'true',
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
            timeoutSeconds: '300',
          },
          (ev) => {
            const obj = ev.object as T;
            if (obj.metadata.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
            if (ev.type === 'BOOKMARK') return;
            const key = objectKey(obj);
            const old = this.cache.get(key);
            if (ev.type === 'DELETED') {
              this.cache.delete(key);
              this.emit('delete', obj, old);
            } else {
              this.cache.set(key, obj);
              this.emit(old ? 'update' : 'add', obj, old);
            }
          },
          signal,
        );
        delay = backoff.initial; // a watch that ended cleanly: resume from the last version at once
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof KubeAPIError && err.statusCode === 410) {
          this.stats.relists410++;
          resourceVersion = undefined; // our version is too old: list again
          continue;
        }
        this.stats.errors++;
        this.opts.logger?.warn(
          { err: err instanceof Error ? err.message : err, kind: this.opts.kind, retryInMs: delay },
          'watch failed; reconnecting',
        );
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, backoff.max);
      }
    }
  }

  /** Lists everything, replaces the cache (emitting adds, updates and deletes), returns the list's version. */
  private async relist(path: APIPath): Promise<string> {
    this.stats.lists++;
    const list = await this.client.request<{ metadata: { resourceVersion: string }; items: T[] }>('GET', path, {
      query: { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector },
    });
    const seen = new Set<string>();
    for (const item of list.items) {
      // Items of a list carry no apiVersion/kind; add them so consumers see whole objects.
      const obj = { ...item, apiVersion: this.opts.apiVersion, kind: this.opts.kind } as T;
      const key = objectKey(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old, old);
      }
    }
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters) w();
      this.syncWaiters = [];
    }
    return list.metadata.resourceVersion;
  }
}
