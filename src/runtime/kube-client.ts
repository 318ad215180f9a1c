// A thin Kubernetes REST client: JSON over HTTPS with the kubeconfig's credentials (loaded by
// @kubernetes/client-node), resource paths found by discovery, server-side apply, and typed API errors.
// Objects travel as plain JSON, untouched, so CRD schemas and custom resources keep every field.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { apiPath, memberPath, subresourcePath, type APIPath } from './api-path.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** An error answer of the API server, with its Status fields. */
export class KubeAPIError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly causes: StatusCause[] = [],
  ) {
    super(message);
    this.name = 'KubeAPIError';
  }
  get notFound(): boolean {
    return this.statusCode === 404;
  }
  get conflict(): boolean {
    return this.statusCode === 409;
  }
}

/** The API server serves no such kind (its CRD is not installed, or its group version is not served). */
export class KindNotServedError extends Error {
  constructor(
    readonly apiVersion: string,
    readonly kind: string,
  ) {
    super(`the API server does not serve kind ${kind} in ${apiVersion} (is its CustomResourceDefinition installed?)`);
    this.name = 'KindNotServedError';
  }
}

interface APIResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Accept header; JSON by default (the Table API wants `application/json;as=Table;v=v1;g=meta.k8s.io`). */
  accept?: string;
}

/** Methods the API server applies the same way however often they arrive. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** A request that failed on a reused connection before any answer (see KubeClient.send). */
class StaleConnectionError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

export class KubeClient {
  private readonly server: string;
  private readonly agent: https.Agent | http.Agent;
  /** Watches hold a socket each for minutes: they get their own agent, so requests never queue behind them. */
  private readonly watchAgent: https.Agent | http.Agent;
  private readonly discovery = new Map<string, Promise<APIResource[]>>();
  /** Sees every request (method, path, HTTP status; 0 when it failed before an answer) and every watch. */
  onRequest?: (req: { method: string; path: APIPath; status: number; watch?: boolean }) => void;

  constructor(private readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
    this.agent = this.server.startsWith('https:')
      ? new https.Agent({ keepAlive: true, maxSockets: 32 })
      : new http.Agent({ keepAlive: true, maxSockets: 32 });
    this.watchAgent = this.server.startsWith('https:')
      ? new https.Agent({ keepAlive: true })
      : new http.Agent({ keepAlive: true });
  }

  /** The URL, the options with the kubeconfig's credentials and TLS, and the module for one request. */
  private async prepare(
    method: string,
    path: APIPath,
    query: Record<string, string | undefined>,
    accept = 'application/json',
    agent = this.agent,
  ) {
    const url = new URL(this.server + path);
    // Defence in depth: the URL parser resolves dot segments; a path it changes is not the one that was built.
    if (!url.pathname.endsWith(path))
      throw new Error(`refusing request path ${JSON.stringify(path)}: it is not canonical`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const options: https.RequestOptions = { method, headers: { Accept: accept } };
    await this.kc.applyToHTTPSOptions(options);
    options.agent = agent;
    return { url, options, lib: url.protocol === 'https:' ? https : http };
  }

  /** Sends one request; resolves with the parsed JSON body, rejects with KubeAPIError on a non-2xx answer. */
  async request<T = unknown>(method: string, path: APIPath, opts: RequestOptions = {}): Promise<T> {
    let status = 0;
    try {
      return await this.send<T>(method, path, opts, (s) => (status = s));
    } finally {
      this.onRequest?.({ method, path, status });
    }
  }

  /**
   * One request, sent again once when it is idempotent and failed on a kept-alive connection before any answer:
   * the server closed that connection while it sat idle (its idle timeout ran out as the request went out), so
   * the request never reached it.
   */
  private async send<T>(
    method: string,
    path: APIPath,
    opts: RequestOptions,
    onStatus: (s: number) => void,
  ): Promise<T> {
    const unwrap = (e: unknown) => (e instanceof StaleConnectionError ? e.cause : e);
    try {
      return await this.sendOnce<T>(method, path, opts, onStatus);
    } catch (err) {
      if (!(err instanceof StaleConnectionError && IDEMPOTENT.has(method))) throw unwrap(err);
    }
    return this.sendOnce<T>(method, path, opts, onStatus).catch((e: unknown) => {
      throw unwrap(e);
    });
  }

  private async sendOnce<T>(
    method: string,
    path: APIPath,
    opts: RequestOptions,
    onStatus: (s: number) => void,
  ): Promise<T> {
    const { url, options, lib } = await this.prepare(method, path, opts.query ?? {}, opts.accept);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (body !== undefined) {
      options.headers = {
        ...options.headers,
        'Content-Type': opts.contentType ?? 'application/json',
        'Content-Length': Buffer.byteLength(body),
      };
    }
    return new Promise<T>((resolve, reject) => {
      const req = lib.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          onStatus(status);
          let parsed: unknown = undefined;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) return resolve(parsed as T);
          const st = (parsed ?? {}) as { reason?: string; message?: string; details?: { causes?: StatusCause[] } };
          reject(
            new KubeAPIError(
              status,
              st.reason ?? 'Unknown',
              st.message ?? `${method} ${path}: HTTP ${status} ${text.slice(0, 200)}`,
              st.details?.causes ?? [],
            ),
          );
        });
      });
      req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        reject(stale ? new StaleConnectionError(err) : err);
      });
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  private resources(apiVersion: string): Promise<APIResource[]> {
    let found = this.discovery.get(apiVersion);
    if (!found) {
      found = this.request<{ resources: APIResource[] }>('GET', apiPath({ apiVersion })).then((r) => r.resources);
      found.catch(() => this.discovery.delete(apiVersion));
      this.discovery.set(apiVersion, found);
    }
    return found;
  }

  /** Forgets discovered resources (after installing CRDs, say). */
  resetDiscovery(): void {
    this.discovery.clear();
  }

  /** Forgets what discovery said about one group version, so the next use asks again. */
  forgetDiscovery(apiVersion: string): void {
    this.discovery.delete(apiVersion);
  }

  /** The REST path of a kind's collection (namespace optional for namespaced kinds: all namespaces). */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<APIPath> {
    const resources = await this.resources(apiVersion).catch((err: unknown) => {
      if (err instanceof KubeAPIError && err.notFound) throw new KindNotServedError(apiVersion, kind);
      throw err;
    });
    const resource = resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!resource) throw new KindNotServedError(apiVersion, kind);
    return apiPath({ apiVersion, resource: resource.name, namespace: resource.namespaced ? namespace : undefined });
  }

  /** The REST path of the object (or of its subresource, e.g. "status"). */
  async objectPath(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, subresource?: string): Promise<APIPath> {
    if (!obj.metadata.name) throw new Error(`${obj.kind} without metadata.name`);
    const path = memberPath(
      await this.collectionPath(obj.apiVersion, obj.kind, obj.metadata.namespace),
      obj.metadata.name,
    );
    return subresource ? subresourcePath(path, subresource) : path;
  }

  async get<T extends KubeObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T> {
    return this.request<T>('GET', memberPath(await this.collectionPath(apiVersion, kind, namespace), name));
  }

  async create<T extends KubeObject>(obj: T, opts: { dryRun?: boolean } = {}): Promise<T> {
    const path = await this.collectionPath(obj.apiVersion, obj.kind, obj.metadata.namespace);
    return this.request<T>('POST', path, { body: obj, query: { dryRun: opts.dryRun ? 'All' : undefined } });
  }

  async delete(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<void> {
    await this.request('DELETE', await this.objectPath(obj));
  }

  /** Deletes the object (or the one at `path`); one that is already gone is fine. */
  async deleteIfPresent(target: APIPath | Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<void> {
    const path = typeof target === 'string' ? target : await this.objectPath(target);
    await this.request('DELETE', path).catch((err: unknown) => {
      if (!(err instanceof KubeAPIError && err.notFound)) throw err;
    });
  }

  /** Server-side apply of `obj` as `fieldManager` (forcing ownership of conflicting fields). */
  async apply<T extends KubeObject>(obj: T, fieldManager = 'vmop'): Promise<T> {
    return this.request<T>('PATCH', await this.objectPath(obj), {
      body: obj,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: 'true' },
    });
  }

  /**
   * Streams a watch: calls `onEvent` for each newline-delimited event until the server ends the stream
   * (resolves) or the connection fails (rejects). A 410 Gone, either as the answer or as an ERROR event,
   * rejects with a KubeAPIError of status 410 so the caller can relist.
   */
  async watch(
    path: APIPath,
    query: Record<string, string | undefined>,
    onEvent: (event: WatchEvent) => void,
    signal?: AbortSignal,
    opts: { idleTimeoutMs?: number } = {},
  ): Promise<void> {
    this.onRequest?.({ method: 'GET', path, status: 200, watch: true });
    const { url, options, lib } = await this.prepare('GET', path, { ...query, watch: '1' }, undefined, this.watchAgent);
    if (signal) options.signal = signal;
    await new Promise<void>((resolve, reject) => {
      const req = lib.request(url, options, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const st = safeJSON(Buffer.concat(chunks).toString()) as { reason?: string; message?: string } | undefined;
            reject(
              new KubeAPIError(
                res.statusCode ?? 0,
                st?.reason ?? 'Unknown',
                st?.message ?? `watch ${path}: HTTP ${res.statusCode}`,
              ),
            );
          });
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            const event = safeJSON(line) as WatchEvent | undefined;
            if (!event) continue;
            if (event.type === 'ERROR') {
              const st = event.object as { code?: number; reason?: string; message?: string };
              req.destroy();
              reject(new KubeAPIError(st.code ?? 500, st.reason ?? 'Unknown', st.message ?? 'watch error'));
              return;
            }
            onEvent(event);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      // A connection that went half-open (a proxy or node that stopped forwarding) never ends by itself: no
      // byte (not even a bookmark) for this long ends it, and the caller reconnects.
      if (opts.idleTimeoutMs) {
        req.setTimeout(opts.idleTimeoutMs, () =>
          req.destroy(new Error(`watch ${path}: nothing received for ${opts.idleTimeoutMs} ms; reconnecting`)),
        );
      }
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

function safeJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
