// An informer: a local cache of one resource kind kept by list + watch. It relists when the API server
// answers 410 Gone, reconnects with backoff after any other error or a closed stream, and replays the whole
// cache on a resync period so level-triggered reconcilers see every object again now and then.
import { pause } from './timeout.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import { KindNotServedError, KubeAPIError, type KubeClient, type KubeObject } from './kube-client.js';
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
  /**
   * The kind may not be installed (an optional CRD): while the API server does not serve it, the cache counts
   * as synced and empty, and the kind is looked for again every `optionalRecheckMs`.
   */
  optional?: boolean;
  optionalRecheckMs?: number;
  /** The server ends each watch after this long (plus up to 20% jitter); 300 s by default. */
  watchTimeoutSeconds?: number;
  /** A watch that receives nothing for this long is dropped and reconnected; the watch timeout + 60 s by default. */
  watchIdleTimeoutMs?: number;
  /** How long list/watch may keep failing before `health` reports it; 60 s by default. */
  unhealthyAfterMs?: number;
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
  /** How many users started it and have not stopped it yet (a shared informer runs while any does). */
  private users = 0;
  private readonly indexers = new Map<string, (obj: T) => string[]>();
  /** Index name → value → keys of the objects with that value. */
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  /** Since when list/watch has been failing, and the last error; undefined while it works. */
  private failing?: { since: number; message: string };
  private loggedNotServed = false;
  /** Counts of lists and watches made, for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, relists410: 0, errors: 0 };

  constructor(
    private readonly client: KubeClient,
    private readonly opts: InformerOptions,
  ) {
    this.opts = { ...opts };
  }

  get kind(): string {
    return this.opts.kind;
  }

  /** Another user of a shared informer: the shortest resync wins; optional only if every user says so. */
  share(opts: Pick<InformerOptions, 'resyncMs' | 'optional'>): void {
    if (opts.resyncMs && (!this.opts.resyncMs || opts.resyncMs < this.opts.resyncMs)) {
      if (this.users > 0) throw new Error(`the shared informer of ${this.opts.kind} runs already; ask for it earlier`);
      this.opts.resyncMs = opts.resyncMs;
    }
    if (!opts.optional) this.opts.optional = false;
  }

  on(handler: (event: InformerEvent, obj: T, old?: T) => void): void {
    this.handlers.push(handler);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /**
   * Adds an index: `values` gives each object's values for it (say, the claims a VM names); `byIndex` then
   * answers without scanning the cache. Add indexes before the informer starts.
   */
  addIndex(name: string, values: (obj: T) => string[]): void {
    if (this.indexers.has(name)) return;
    this.indexers.set(name, values);
    const index = new Map<string, Set<string>>();
    this.indexes.set(name, index);
    for (const [key, obj] of this.cache) for (const v of this.valuesOf(values, obj)) this.indexAdd(index, v, key);
  }

  /** An index's values of one object; an object the function cannot read (malformed input) has none. */
  private valuesOf(values: (obj: T) => string[], obj: T): string[] {
    try {
      return values(obj);
    } catch {
      return [];
    }
  }

  /** The cached objects whose index `name` has `value`. */
  byIndex(name: string, value: string): T[] {
    const keys = this.indexes.get(name)?.get(value);
    if (!keys) {
      if (!this.indexes.has(name)) throw new Error(`informer of ${this.opts.kind} has no index ${name}`);
      return [];
    }
    return [...keys].flatMap((k) => this.cache.get(k) ?? []);
  }

  private indexAdd(index: Map<string, Set<string>>, value: string, key: string): void {
    let keys = index.get(value);
    if (!keys) index.set(value, (keys = new Set()));
    keys.add(key);
  }

  /** Puts (or, without `obj`, removes) a cached object, keeping the indexes. */
  private store(key: string, obj: T | undefined): void {
    const old = this.cache.get(key);
    for (const [name, values] of this.indexers) {
      const index = this.indexes.get(name)!;
      if (old) {
        for (const v of this.valuesOf(values, old)) {
          const keys = index.get(v);
          keys?.delete(key);
          if (keys?.size === 0) index.delete(v);
        }
      }
      if (obj) for (const v of this.valuesOf(values, obj)) this.indexAdd(index, v, key);
    }
    if (obj) this.cache.set(key, obj);
    else this.cache.delete(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /**
   * What keeps the cache from being current, for readiness: undefined while it is synced and list/watch works
   * (or only failed for a short while).
   */
  get health(): string | undefined {
    const f = this.failing;
    if (!f || Date.now() - f.since < (this.opts.unhealthyAfterMs ?? 60_000)) return undefined;
    const state = this.synced ? 'not current' : 'not synced';
    return `cache of ${this.opts.kind} (${this.opts.apiVersion}) ${state} for ${Math.round((Date.now() - f.since) / 1000)} s: ${f.message}`;
  }

  /** Resolves once the first list has filled the cache. */
  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Starts it for one more user (a shared informer runs once, while any user has not stopped it). */
  start(): void {
    if (this.users++ > 0) return;
    this.running ??= this.run();
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => {
        for (const obj of this.cache.values()) this.emit('resync', obj);
      }, this.opts.resyncMs);
      this.resyncTimer.unref();
    }
  }

  /** Stops it for one user; the last one stops the list/watch. */
  async stop(): Promise<void> {
    if (this.users > 0 && --this.users > 0) return;
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
        if (!resourceVersion) {
          resourceVersion = await this.relist(path);
          this.failing = undefined;
        }
        this.stats.watches++;
        const timeoutSeconds = this.opts.watchTimeoutSeconds ?? 300;
        await this.client.watch(
          path,
          {
            resourceVersion,
            allowWatchBookmarks: 'true',
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
            // Jittered, so the watches of many replicas and kinds do not all reconnect at once.
            timeoutSeconds: String(Math.round(timeoutSeconds * (1 + Math.random() * 0.2))),
          },
          (ev) => {
            this.failing = undefined; // the watch delivers
            const obj = ev.object as T;
            if (obj.metadata.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
            if (ev.type === 'BOOKMARK') return;
            const key = objectKey(obj);
            const old = this.cache.get(key);
            if (ev.type === 'DELETED') {
              this.store(key, undefined);
              this.emit('delete', obj, old);
            } else {
              this.store(key, obj);
              this.emit(old ? 'update' : 'add', obj, old);
            }
          },
          signal,
          { idleTimeoutMs: this.opts.watchIdleTimeoutMs ?? (timeoutSeconds * 1.2 + 60) * 1000 },
        );
        this.failing = undefined;
        delay = backoff.initial; // a watch that ended cleanly: resume from the last version at once
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof KindNotServedError) {
          await this.notServed(err, signal);
          continue;
        }
        if (err instanceof KubeAPIError && err.statusCode === 410) {
          this.stats.relists410++;
          resourceVersion = undefined; // our version is too old: list again
          continue;
        }
        this.stats.errors++;
        this.failing ??= { since: Date.now(), message: '' };
        this.failing.message = errorMessage(err);
        this.opts.logger?.warn(
          { err: err instanceof Error ? err.message : err, kind: this.opts.kind, retryInMs: delay },
          'watch failed; reconnecting',
        );
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, backoff.max);
      }
    }
  }

  /**
   * The kind is not served. An optional one counts as present and empty until it appears; a required one is
   * an error the log says once, and readiness reports until the kind appears.
   */
  private async notServed(err: KindNotServedError, signal: AbortSignal): Promise<void> {
    const log = this.opts.logger;
    if (this.opts.optional) {
      if (!this.loggedNotServed)
        log?.info(
          { kind: this.opts.kind, apiVersion: this.opts.apiVersion },
          `${err.message}; optional, treated as empty until it appears`,
        );
      for (const [key, old] of this.cache) {
        this.store(key, undefined);
        this.emit('delete', old, old);
      }
      this.markSynced();
      this.failing = undefined;
    } else {
      if (!this.loggedNotServed)
        log?.error(
          { kind: this.opts.kind, apiVersion: this.opts.apiVersion },
          `${err.message}: the controller that needs it cannot start`,
        );
      this.failing ??= { since: Date.now(), message: err.message };
    }
    this.loggedNotServed = true;
    await pause(signal, this.opts.optional ? (this.opts.optionalRecheckMs ?? 30_000) : 5_000);
    this.client.forgetDiscovery(this.opts.apiVersion);
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const w of this.syncWaiters) w();
    this.syncWaiters = [];
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
      this.store(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.store(key, undefined);
        this.emit('delete', old, old);
      }
    }
    this.markSynced();
    this.loggedNotServed = false;
    return list.metadata.resourceVersion;
  }
}
