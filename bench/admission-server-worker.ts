// Worker thread for the admission benchmark: serves either vmop's admission handlers or the floor server,
// so the server has an event loop of its own and the load generator does not share it.
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../src/runtime/logger.js';
import { createHandlers } from '../src/webhooks/handlers.js';
import { startWebhookServer } from '../src/webhooks/server.js';

const { kind, certDir } = workerData as { kind: 'vmop' | 'floor'; certDir: string };

async function main(): Promise<number> {
  if (kind === 'vmop') {
    const server = await startWebhookServer({
      host: '127.0.0.1',
      port: 0,
      certDir,
      handlers: createHandlers({ privilegedUsers: [] }),
      logger: createLogger({ level: 'silent' }),
    });
    return server.port;
  }
  const cert = await readFile(path.join(certDir, 'tls.crt'));
  const key = await readFile(path.join(certDir, 'tls.key'));
  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const uid = /"uid":"([^"]*)"/.exec(Buffer.concat(chunks).toString())?.[1] ?? '';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"${uid}","allowed":true}}`,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

main().then(
  (port) => parentPort?.postMessage({ port }),
  (err: unknown) => parentPort?.postMessage({ error: String(err) }),
);
