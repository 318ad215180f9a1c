// The HTTPS admission server: one POST endpoint per webhook path, AdmissionReview in and out, a body size
// limit, and HTTP 400 for bodies that are not an AdmissionReview. The serving certificate comes from a
// CertificateSource (files in a folder, re-read when they change, or the Secret the manager rotates), and a
// renewed one takes effect for new connections without a restart.
import { readFile, stat } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../runtime/logger.js';
import { parseAdmissionReview, type AdmissionReview } from './admission.js';
import type { Handler } from './handlers.js';

/** Larger than any object the API server stores (etcd's default request limit is 1.5 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/**
 * Bounds on what unauthenticated clients can make the server hold: requests being read or answered at once,
 * and request bytes buffered across all of them. Beyond either, a request is refused with 429 at once, so a
 * flood of half-sent bodies gets nowhere. The request bound sits above what one API server sends at once
 * (its default in-flight limit for mutating requests is 200); the byte bound is what keeps memory flat.
 */
export const MAX_CONCURRENT_REQUESTS = 256;
export const MAX_BUFFERED_BYTES = 24 * 1024 * 1024;
/** A request must be whole within this time (the API server gives a webhook at most 30 s). */
export const REQUEST_TIMEOUT_MS = 30_000;
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * How long an idle connection stays open between requests. The API server's webhook client keeps idle
 * connections for 90 s (Go's default transport) and reuses them without a retry for POSTs: a server that closes
 * one first can see the next review written onto the closing socket, and the API server reports "broken pipe"
 * as a failed conversion or admission. Node's own default is 5 s; this outlives the client's.
 */
export const IDLE_TIMEOUT_MS = 120_000;

export interface WebhookServerOptions {
  host: string;
  port: number;
  /** Folder with tls.crt and tls.key (re-read when they change)... */
  certDir?: string;
  /** ... or another source of the serving pair. */
  certificates?: CertificateSource;
  handlers: Record<string, Handler | ReviewHandler>;
  logger: Logger;
  registry?: Registry;
  /** How often to look for a renewed certificate. */
  certCheckIntervalMs?: number;
  /**
   * PEM CA bundle: when set, only clients with a certificate it signed are served (the API server presents
   * one when its admission configuration gives it a client certificate for webhooks).
   */
  clientCA?: string | Buffer;
  /** Overrides of the bounds above (tests). */
  limits?: { concurrentRequests?: number; bufferedBytes?: number; requestTimeoutMs?: number };
}

/** A serving certificate and its key, PEM. */
export interface ServingPair {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface CertificateSource {
  /** The pair to serve with; waits until there is one. */
  current(): Promise<ServingPair>;
  /** Called with every later pair. */
  onChange(listener: (pair: ServingPair) => void): void;
  /** Stops looking for changes. */
  close?(): void;
}

/** tls.crt and tls.key in a folder, looked at every `intervalMs` for a renewed pair. */
export function fileCertificates(dir: string, intervalMs: number, logger: Logger): CertificateSource {
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  const load = async () => ({ cert: await readFile(certFile), key: await readFile(keyFile) });
  const mtime = async () => (await stat(certFile)).mtimeMs + (await stat(keyFile)).mtimeMs;
  const listeners: ((pair: ServingPair) => void)[] = [];
  let last: number | undefined;
  const timer = setInterval(() => {
    void (async () => {
      const now = await mtime().catch(() => last);
      if (now === last) return;
      last = now;
      const pair = await load();
      for (const l of listeners) l(pair);
      logger.info({ certFile }, 'webhook serving certificate reloaded');
    })().catch((err: unknown) => logger.error({ err }, 'cannot reload the webhook certificate'));
  }, intervalMs);
  timer.unref();
  return {
    async current() {
      last = await mtime();
      return load();
    },
    onChange: (l) => listeners.push(l),
    close: () => clearInterval(timer),
  };
}

export interface WebhookServer {
  port: number;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  body: string;
  verdict: string;
}

/** A handler of another review than AdmissionReview (the CRDs' ConversionReview): it reads the parsed body. */
export interface ReviewHandler {
  review: (body: unknown) => Reply;
  /** Its own body limit (a conversion of a list carries every object of it). */
  maxBodyBytes?: number;
}

function reply(status: number, message: string): Reply {
  return { status, body: JSON.stringify({ error: message }), verdict: 'error' };
}

export async function handleBody(raw: Buffer, handler: Handler | ReviewHandler): Promise<Reply> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return reply(400, 'the body is not valid JSON: expected an admission.k8s.io/v1 AdmissionReview');
  }
  if (typeof handler !== 'function') return handler.review(body);
  const req = parseAdmissionReview(body);
  if (typeof req === 'string') return reply(400, `${req}: expected an admission.k8s.io/v1 AdmissionReview`);
  const response = await handler(req);
  const review: AdmissionReview = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
  const verdict = response.allowed ? (response.patch ? 'patched' : 'allowed') : 'denied';
  return { status: 200, body: JSON.stringify(review), verdict };
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const source =
    opts.certificates ??
    (opts.certDir ? fileCertificates(opts.certDir, opts.certCheckIntervalMs ?? 10_000, opts.logger) : undefined);
  if (!source) throw new Error('the admission server needs a certificate folder or source');

  // Metrics only with a registry to put them in: vmop's own, and the same requests under controller-runtime's
  // names, so stock webhook dashboards and alerts work too.
  const registers = opts.registry ? [opts.registry] : undefined;
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    registers && new Counter<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets?: number[]) =>
    registers && new Histogram<L>({ name, help, labelNames, registers, ...(buckets ? { buckets } : {}) });
  const requests = counter('vmop_webhook_requests_total', 'Admission requests by webhook path and verdict.', [
    'path',
    'verdict',
  ]);
  const latency = histogram(
    'vmop_webhook_request_duration_seconds',
    'Time to answer an admission request.',
    ['path'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  );
  const crTotal = counter(
    'controller_runtime_webhook_requests_total',
    'Total number of admission requests by HTTP status code.',
    ['webhook', 'code'],
  );
  const crLatency = histogram(
    'controller_runtime_webhook_latency_seconds',
    'Histogram of the latency of processing admission requests.',
    ['webhook', 'code'],
  );
  const crInFlight =
    registers &&
    new Gauge({
      name: 'controller_runtime_webhook_requests_in_flight',
      help: 'Current number of admission requests being served.',
      labelNames: ['webhook'],
      registers,
    });

  const maxInFlight = opts.limits?.concurrentRequests ?? MAX_CONCURRENT_REQUESTS;
  const maxBuffered = opts.limits?.bufferedBytes ?? MAX_BUFFERED_BYTES;
  let inFlight = 0;
  let buffered = 0;
  const requestTimeout = opts.limits?.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const server = https.createServer(
    {
      ...(await source.current()),
      requestTimeout,
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout),
      keepAliveTimeout: IDLE_TIMEOUT_MS,
      ...(opts.clientCA ? { requestCert: true, rejectUnauthorized: true, ca: opts.clientCA } : {}),
    },
    (req, res) => {
      const started = process.hrtime.bigint();
      const pathname = (req.url ?? '/').split('?')[0] ?? '/';
      const handler = Object.hasOwn(opts.handlers, pathname) ? opts.handlers[pathname] : undefined;
      // The path is the client's input: only the served paths become label values, so unknown paths cannot
      // grow the metric series.
      const label = handler ? pathname : 'other';
      crInFlight?.inc({ webhook: label });
      res.once('close', () => crInFlight?.dec({ webhook: label }));
      const finish = (r: Reply) => {
        if (!res.headersSent) {
          res.writeHead(r.status, { 'Content-Type': 'application/json' });
          res.end(r.body);
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        requests?.inc({ path: label, verdict: r.verdict });
        latency?.observe({ path: label }, seconds);
        crTotal?.inc({ webhook: label, code: String(r.status) });
        crLatency?.observe({ webhook: label, code: String(r.status) }, seconds);
      };
      if (!handler) return finish(reply(404, 'no webhook at this path'));
      if (req.method !== 'POST') return finish(reply(405, 'admission reviews are POSTed'));
      const maxBody = (typeof handler === 'function' ? undefined : handler.maxBodyBytes) ?? MAX_BODY_BYTES;
      const tooLarge = () => reply(413, `the body is larger than ${maxBody} bytes`);
      // Beyond a bound: 429, and the client may retry in a second.
      const busy = (why: string) => {
        res.setHeader('Retry-After', '1');
        return reply(429, `${why}; retry`);
      };
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxBody) {
        req.resume();
        return finish(tooLarge());
      }
      if (inFlight >= maxInFlight) {
        finish(busy('too many admission requests at once'));
        req.destroy();
        return;
      }
      inFlight++;
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      // Gives back this request's share of the bounds, once, however it ends.
      const release = () => {
        if (done) return;
        done = true;
        inFlight--;
        buffered -= size;
        chunks.length = 0;
      };
      const refuse = (r: Reply) => {
        release();
        finish(r);
        req.destroy();
      };
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        if (size + chunk.length > maxBody) return refuse(tooLarge());
        if (buffered + chunk.length > maxBuffered) {
          return refuse(busy('the admission server is holding too many request bodies'));
        }
        size += chunk.length;
        buffered += chunk.length;
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (done) return;
        const body = Buffer.concat(chunks);
        release();
        void handleBody(body, handler).then(finish);
      });
      req.on('error', release);
      req.on('close', release);
    },
  );

  // A renewed serving pair keeps the client CA requirement.
  source.onChange((pair) => server.setSecureContext({ ...pair, ...(opts.clientCA ? { ca: opts.clientCA } : {}) }));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        source.close?.();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
