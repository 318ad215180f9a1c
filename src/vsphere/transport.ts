// HTTPS to vSphere: keep-alive connections, a bound on requests in flight, timeouts, cancellation with an
// AbortSignal, and TLS verified against a CA bundle or a pinned SHA-256 thumbprint (insecure only when asked).
import type { ClientRequest } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { VimTransportError } from './faults.js';

export interface TLSOptions {
  /** PEM CA bundle that signs the server's certificate. */
  ca?: string | Buffer;
  /** The server certificate's SHA-256 thumbprint (hex, with or without colons). */
  thumbprint?: string;
  /** Accept any certificate. Only for throw-away test setups. */
  insecure?: boolean;
}

export interface TransportOptions {
  /** Base URL, e.g. https://vcenter.example.com (no credentials). */
  url: string;
  tls: TLSOptions;
  maxConcurrent?: number;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

export interface HTTPResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function normalizeThumbprint(t: string): string {
  return t.replace(/:/g, '').toUpperCase();
}

/** An agent that refuses a server whose certificate thumbprint is not the pinned one. */
class PinnedAgent extends https.Agent {
  constructor(
    private readonly thumbprint: string,
    options: https.AgentOptions,
  ) {
    super(options);
  }
  override createConnection(
    options: tls.ConnectionOptions,
    callback?: (err: Error | null, socket: Duplex) => void,
  ): Duplex {
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      const seen = normalizeThumbprint(socket.getPeerCertificate().fingerprint256 ?? '');
      if (seen !== this.thumbprint) {
        const err = new VimTransportError(
          `the server's certificate thumbprint ${seen} is not the pinned ${this.thumbprint}`,
          'THUMBPRINT_MISMATCH',
        );
        socket.destroy(err);
        callback?.(err, socket);
        return;
      }
      callback?.(null, socket);
    });
    socket.once('error', (err) => callback?.(err, socket));
    return socket;
  }
}

export class Transport {
  readonly base: URL;
  private readonly agent: https.Agent;
  private readonly maxConcurrent: number;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** Requests under way and when they time out; one sweeping timer serves them all, not a timer each. */
  private readonly deadlines = new Map<ClientRequest, { at: number; fail: () => void }>();
  private sweeper?: NodeJS.Timeout;

  constructor(opts: TransportOptions) {
    this.base = new URL(opts.url);
    if (this.base.username || this.base.password) throw new Error('pass credentials separately, not in the URL');
    this.maxConcurrent = opts.maxConcurrent ?? 16;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxResponseBytes = opts.maxResponseBytes ?? 256 * 1024 * 1024;
    const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: this.maxConcurrent };
    if (opts.tls.thumbprint) this.agent = new PinnedAgent(normalizeThumbprint(opts.tls.thumbprint), agentOptions);
    else if (opts.tls.insecure) this.agent = new https.Agent({ ...agentOptions, rejectUnauthorized: false });
    else this.agent = new https.Agent({ ...agentOptions, ca: opts.tls.ca });
  }

  private async acquire(signal?: AbortSignal): Promise<void> {
    if (this.inFlight < this.maxConcurrent) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new VimTransportError('the request was cancelled', 'ABORTED'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(go);
    });
    this.inFlight++;
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  async request(
    method: string,
    path: string,
    opts: { body?: string; headers?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<HTTPResponse> {
    if (opts.signal?.aborted) throw new VimTransportError('the request was cancelled', 'ABORTED');
    await this.acquire(opts.signal);
    try {
      return await this.send(method, path, opts);
    } finally {
      this.release();
    }
  }

  private send(
    method: string,
    path: string,
    opts: { body?: string; headers?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<HTTPResponse> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const where = { host: this.base.host, pathname: path.split('?')[0] ?? path };
    return new Promise<HTTPResponse>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...opts.headers };
      if (opts.body !== undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
      const options: https.RequestOptions = {
        method,
        host: this.base.hostname,
        port: this.base.port || 443,
        path,
        agent: this.agent,
        headers,
        ...(opts.signal ? { signal: opts.signal } : {}),
      };
      const req = https.request(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxResponseBytes) {
            req.destroy(new VimTransportError(`response larger than ${this.maxResponseBytes} bytes`, 'TOO_LARGE'));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (err) => reject(wrap(err, where)));
      });
      this.deadlines.set(req, {
        at: Date.now() + timeoutMs,
        fail: () =>
          req.destroy(
            new VimTransportError(`${method} ${where.pathname}: no answer within ${timeoutMs} ms`, 'TIMEOUT'),
          ),
      });
      this.sweeper ??= setInterval(() => this.sweep(), Math.min(1000, timeoutMs)).unref();
      req.once('close', () => this.deadlines.delete(req));
      req.on('error', (err) => reject(wrap(err, where)));
      req.end(opts.body);
    });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [req, d] of this.deadlines) {
      if (d.at <= now) {
        this.deadlines.delete(req);
        d.fail();
      }
    }
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.agent.destroy();
  }
}

function wrap(err: Error & { code?: string }, url: { host: string; pathname: string }): Error {
  if (err instanceof VimTransportError) return err;
  if (err.name === 'AbortError') return new VimTransportError('the request was cancelled', 'ABORTED');
  return new VimTransportError(`${url.host}${url.pathname}: ${err.message}`, err.code);
}
