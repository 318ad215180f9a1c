// The manager's HTTP endpoint for probes and scraping: /healthz (the process works), /readyz (every
// readiness check passes) and /metrics (Prometheus text format).
import http from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<void>;

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  readiness: Record<string, ReadinessCheck>;
}): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    void handle(req.url ?? '/', opts).then(
      ({ status, type, body }) => {
        res.writeHead(status, { 'Content-Type': type });
        res.end(body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(err instanceof Error ? err.message : 'internal error');
      },
    );
  });
  return listen(server, opts.host, opts.port);
}

/** Starts `server` on host:port (0: any free port); resolves with the port it got and a close. */
export async function listen(server: Server, host: string, port: number): Promise<HealthServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function handle(
  url: string,
  opts: { registry: Registry; readiness: Record<string, ReadinessCheck> },
): Promise<{ status: number; type: string; body: string }> {
  const pathname = url.split('?')[0];
  if (pathname === '/healthz' || pathname === '/livez') return { status: 200, type: 'text/plain', body: 'ok' };
  if (pathname === '/readyz') {
    const failed: string[] = [];
    for (const [name, check] of Object.entries(opts.readiness)) {
      await check().catch((err: unknown) => failed.push(`${name}: ${err instanceof Error ? err.message : err}`));
    }
    return failed.length === 0
      ? { status: 200, type: 'text/plain', body: 'ok' }
      : { status: 503, type: 'text/plain', body: failed.join('\n') };
  }
  if (pathname === '/metrics') {
    return { status: 200, type: opts.registry.contentType, body: await opts.registry.metrics() };
  }
  return { status: 404, type: 'text/plain', body: 'not found' };
}
