// The HTTPS admission server: one POST endpoint per webhook path, AdmissionReview in and out, a body size
// limit, and HTTP 400 for bodies that are not an AdmissionReview. The serving certificate is re-read when
// its files change, so a rotated certificate takes effect without a restart.
import { readFile, stat } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../runtime/logger.js';
import { parseAdmissionReview, type AdmissionReview } from './admission.js';
import type { Handler } from './handlers.js';

/** Larger than any object the API server stores (etcd's default request limit is 1.5 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface WebhookServerOptions {
  host: string;
  port: number;
  /** Folder with tls.crt and tls.key. */
  certDir: string;
  handlers: Record<string, Handler>;
  logger: Logger;
  registry?: Registry;
  /** How often to look for a renewed certificate. */
  certCheckIntervalMs?: number;
}

export interface WebhookServer {
  port: number;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: string;
  verdict: string;
}

function reply(status: number, message: string): Reply {
  return { status, body: JSON.stringify({ error: message }), verdict: 'error' };
}

export function handleBody(raw: Buffer, handler: Handler): Reply {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return reply(400, 'the body is not valid JSON: expected an admission.k8s.io/v1 AdmissionReview');
  }
  const req = parseAdmissionReview(body);
  if (typeof req === 'string') return reply(400, `${req}: expected an admission.k8s.io/v1 AdmissionReview`);
  const response = handler(req);
  const review: AdmissionReview = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
  const verdict = response.allowed ? (response.patch ? 'patched' : 'allowed') : 'denied';
  return { status: 200, body: JSON.stringify(review), verdict };
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const certFile = path.join(opts.certDir, 'tls.crt');
  const keyFile = path.join(opts.certDir, 'tls.key');
  const loadCert = async () => ({ cert: await readFile(certFile), key: await readFile(keyFile) });
  const mtime = async () => (await stat(certFile)).mtimeMs + (await stat(keyFile)).mtimeMs;

  const requests = opts.registry
    ? new Counter({
        name: 'vmop_webhook_requests_total',
        help: 'Admission requests by webhook path and verdict.',
        labelNames: ['path', 'verdict'],
        registers: [opts.registry],
      })
    : undefined;
  const latency = opts.registry
    ? new Histogram({
        name: 'vmop_webhook_request_duration_seconds',
        help: 'Time to answer an admission request.',
        labelNames: ['path'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
        registers: [opts.registry],
      })
    : undefined;

  const server = https.createServer(await loadCert(), (req, res) => {
    const started = process.hrtime.bigint();
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = opts.handlers[pathname];
    const finish = (r: Reply) => {
      res.writeHead(r.status, { 'Content-Type': 'application/json' });
      res.end(r.body);
      requests?.inc({ path: pathname, verdict: r.verdict });
      latency?.observe({ path: pathname }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    if (!handler) return finish(reply(404, `no webhook at ${pathname}`));
    if (req.method !== 'POST') return finish(reply(405, 'admission reviews are POSTed'));
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      req.resume();
      return finish(reply(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        finish(reply(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      finish(handleBody(Buffer.concat(chunks), handler));
    });
    req.on('error', () => {
      done = true;
    });
  });

  let lastCert = await mtime();
  const timer = setInterval(() => {
    void (async () => {
      const now = await mtime().catch(() => lastCert);
      if (now === lastCert) return;
      lastCert = now;
      server.setSecureContext(await loadCert());
      opts.logger.info({ certFile }, 'webhook serving certificate reloaded');
    })().catch((err: unknown) => opts.logger.error({ err }, 'cannot reload the webhook certificate'));
  }, opts.certCheckIntervalMs ?? 10_000);
  timer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
