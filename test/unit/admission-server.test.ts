// The HTTPS admission server on loopback: status codes for what is not an AdmissionReview, the body limit,
// the uid echoed back, and a renewed serving certificate picked up without a restart.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ensurePKI, ensureServingCert } from '../../src/devenv/pki.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createHandlers, PATHS } from '../../src/webhooks/handlers.js';
import { IDLE_TIMEOUT_MS, MAX_BODY_BYTES, startWebhookServer, type WebhookServer } from '../../src/webhooks/server.js';

function post(
  port: number,
  ca: Buffer,
  urlPath: string,
  body: string | Buffer,
  method = 'POST',
): Promise<{ status: number; body: string; cert: string }> {
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port,
      path: urlPath,
      method,
      ca,
      agent: false,
      headers: { 'Content-Type': 'application/json' },
    };
    const req = https.request(options, (res) => {
      const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256 ?? '';
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), cert }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('admission server', () => {
  let dir: string;
  let certDir: string;
  let ca: Buffer;
  let server: WebhookServer;
  const registry = new Registry();
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-wh-'));
    const pki = await ensurePKI(path.join(dir, 'pki'));
    const { cert, key } = await ensureServingCert(pki, 'one', { dns: ['localhost'], ips: ['127.0.0.1'] });
    certDir = path.join(dir, 'certs');
    await mkdir(certDir);
    await copyFile(cert, path.join(certDir, 'tls.crt'));
    await copyFile(key, path.join(certDir, 'tls.key'));
    ca = await readFile(pki.caCert);
    server = await startWebhookServer({
      host: '127.0.0.1',
      port: 0,
      certDir,
      handlers: createHandlers({ privilegedUsers: [] }),
      logger: createLogger({ level: 'silent' }),
      registry,
      certCheckIntervalMs: 100,
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const review = (uid: string, object: unknown) =>
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid, operation: 'CREATE', userInfo: { username: 'u' }, object },
    });

  it('answers an AdmissionReview with a response for the same uid', async () => {
    const r = await post(
      server.port,
      ca,
      PATHS.mutateVirtualMachine,
      review('abc-1', { metadata: { name: 'x' }, spec: {} }),
    );
    assert.equal(r.status, 200);
    const parsed = JSON.parse(r.body) as { response: { uid: string; allowed: boolean; patchType: string } };
    assert.equal(parsed.response.uid, 'abc-1');
    assert.equal(parsed.response.allowed, true);
    assert.equal(parsed.response.patchType, 'JSONPatch');
  });

  const bad: [string, string, string | Buffer, string, number, RegExp][] = [
    ['a body that is not JSON', PATHS.validateVirtualMachine, '{not json', 'POST', 400, /not valid JSON/],
    [
      'JSON that is not an AdmissionReview',
      PATHS.validateVirtualMachine,
      '{"kind":"Pod"}',
      'POST',
      400,
      /not an AdmissionReview/,
    ],
    [
      'a review without a uid',
      PATHS.validateVirtualMachine,
      '{"kind":"AdmissionReview","request":{"operation":"CREATE"}}',
      'POST',
      400,
      /has no uid/,
    ],
    ['an unknown path', '/nope', review('u', {}), 'POST', 404, /no webhook at this path/],
    ['a GET', PATHS.validateVirtualMachine, '', 'GET', 405, /POSTed/],
    [
      'a body over the size limit',
      PATHS.validateVirtualMachine,
      Buffer.alloc(MAX_BODY_BYTES + 10, 32),
      'POST',
      413,
      /larger than/,
    ],
  ];
  for (const [what, urlPath, body, method, status, message] of bad) {
    it(`answers ${what} with HTTP ${status}`, async () => {
      const r = await post(server.port, ca, urlPath, body, method);
      assert.equal(r.status, status);
      assert.match((JSON.parse(r.body) as { error: string }).error, message);
    });
  }

  it('counts requests by path and verdict', async () => {
    const text = await registry.metrics();
    assert.match(
      text,
      /vmop_webhook_requests_total\{path="\/default-mutate-vmoperator-vmware-com-v1alpha6-virtualmachine",verdict="patched"\} \d+/,
    );
    assert.match(text, /vmop_webhook_request_duration_seconds_count/);
    // And under controller-runtime's names, by webhook path and HTTP status code.
    const path = PATHS.mutateVirtualMachine.replace(/\//g, '\\/');
    assert.match(text, new RegExp(`controller_runtime_webhook_requests_total\\{webhook="${path}",code="200"\\} \\d+`));
    assert.match(text, /controller_runtime_webhook_requests_total\{webhook="other",code="404"\} \d+/);
    assert.match(
      text,
      new RegExp(`controller_runtime_webhook_latency_seconds_count\\{webhook="${path}",code="200"\\} \\d+`),
    );
    // Nothing is being served between the tests.
    assert.match(text, new RegExp(`controller_runtime_webhook_requests_in_flight\\{webhook="${path}"\\} 0`));
  });

  it('labels requests to unknown paths as one "other" series, however many paths', async () => {
    const series = async () =>
      (await registry.metrics()).split('\n').filter((l) => l.startsWith('vmop_webhook')).length;
    await post(server.port, ca, '/warm-up', '{}');
    const before = await series();
    for (let i = 0; i < 200; i++) await post(server.port, ca, `/random-${i}-${Math.random()}`, '{}');
    assert.equal(await series(), before);
    assert.match(await registry.metrics(), /vmop_webhook_requests_total\{path="other",verdict="error"\} \d+/);
  });

  it('bounds requests held at once and bytes buffered, and recovers when they end', async () => {
    const bounded = await startWebhookServer({
      host: '127.0.0.1',
      port: 0,
      certDir,
      handlers: createHandlers({ privilegedUsers: [] }),
      logger: createLogger({ level: 'silent' }),
      limits: { concurrentRequests: 4, bufferedBytes: 256 * 1024 },
    });
    const held: import('node:http').ClientRequest[] = [];
    try {
      // Half-sent bodies: each declares 2 MB and sends 60 KB, then stalls.
      const answers: Promise<number>[] = [];
      const halfSend = () => {
        const req = https.request({
          host: '127.0.0.1',
          port: bounded.port,
          path: PATHS.validateVirtualMachine,
          method: 'POST',
          ca,
          agent: false,
          headers: { 'Content-Length': String(2_000_000) },
        });
        answers.push(
          new Promise((resolve) => {
            req.on('response', (res) => resolve(res.statusCode ?? 0));
            req.on('error', () => resolve(-1));
          }),
        );
        req.write(Buffer.alloc(60 * 1024, 32));
        held.push(req);
      };
      for (let i = 0; i < 4; i++) halfSend();
      // The fifth is refused at once while four are held.
      let refused = 0;
      for (let i = 0; i < 50 && refused !== 429; i++) {
        refused = (await post(bounded.port, ca, PATHS.validateVirtualMachine, review('x', {}))).status;
        if (refused !== 429) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(refused, 429);
      // More bytes than the buffer bound: the request that crosses it is answered 429 and dropped.
      held[0]!.write(Buffer.alloc(100 * 1024, 32));
      held[1]!.write(Buffer.alloc(100 * 1024, 32));
      const crossed = await Promise.race([
        Promise.any(answers.slice(0, 2)),
        new Promise((r) => setTimeout(() => r('none'), 20_000)),
      ]);
      assert.ok(crossed === 429 || crossed === -1, `a request over the buffer bound got ${String(crossed)}`);
    } finally {
      for (const r of held) r.destroy();
    }
    // Everything held is given back: requests are served again.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await post(bounded.port, ca, PATHS.validateVirtualMachine, review('y', {}))).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status, 200);
    await bounded.close();
  });

  it('with a client CA, serves only clients that present a certificate it signed', async () => {
    const pki = await ensurePKI(path.join(dir, 'pki'));
    const apiserver = await ensureServingCert(
      pki,
      'apiserver-client',
      { dns: ['kube-apiserver'], ips: [] },
      'clientAuth',
    );
    const strict = await startWebhookServer({
      host: '127.0.0.1',
      port: 0,
      certDir,
      clientCA: ca,
      handlers: createHandlers({ privilegedUsers: [] }),
      logger: createLogger({ level: 'silent' }),
    });
    const send = (cert?: { cert: Buffer; key: Buffer }) =>
      new Promise<number | string>((resolve) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port: strict.port,
            path: PATHS.validateVirtualMachine,
            method: 'POST',
            ca,
            agent: false,
            ...(cert ?? {}),
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', (err) => resolve(err.message));
        req.end(review('c1', {}));
      });
    try {
      const without = await send();
      assert.equal(typeof without, 'string', `a client without a certificate got HTTP ${String(without)}`);
      assert.equal(await send({ cert: await readFile(apiserver.cert), key: await readFile(apiserver.key) }), 200);
    } finally {
      await strict.close();
    }
  });

  it('keeps an idle connection open longer than the API server keeps it (no race on its reuse)', async () => {
    // Go's transport, which the API server's webhook client uses, drops idle connections after 90 s.
    assert.ok(IDLE_TIMEOUT_MS > 90_000, `idle connections close after ${IDLE_TIMEOUT_MS} ms`);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    try {
      const once = () =>
        new Promise<{ status: number; reused: boolean; socket: unknown }>((resolve, reject) => {
          const req = https.request(
            { host: '127.0.0.1', port: server.port, path: PATHS.validateVirtualMachine, method: 'POST', agent },
            (res) => {
              res.resume();
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, socket: req.socket }),
              );
            },
          );
          req.on('error', reject);
          req.end(review('idle', {}));
        });
      const first = await once();
      assert.equal(first.status, 200);
      // Past Node's default of 5 s, which closed the socket under the API server's next review.
      await new Promise((r) => setTimeout(r, 6_000));
      const second = await once();
      assert.equal(second.status, 200);
      assert.ok(second.reused && second.socket === first.socket, 'the second review went over the idle connection');
    } finally {
      agent.destroy();
    }
  });

  it('serves a renewed certificate without a restart', async () => {
    const before = (await post(server.port, ca, PATHS.validateVirtualMachine, review('r1', {}))).cert;
    const pki = await ensurePKI(path.join(dir, 'pki'));
    const renewed = await ensureServingCert(pki, 'two', { dns: ['localhost'], ips: ['127.0.0.1'] });
    await copyFile(renewed.key, path.join(certDir, 'tls.key'));
    await copyFile(renewed.cert, path.join(certDir, 'tls.crt'));
    let after = before;
    for (let i = 0; i < 50 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = (await post(server.port, ca, PATHS.validateVirtualMachine, review('r2', {}))).cert;
    }
    assert.notEqual(after, before);
  });
});
