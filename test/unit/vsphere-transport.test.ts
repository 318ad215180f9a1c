// The vSphere transport on its own, against local HTTPS servers: request timeouts, cancellation, the bound
// on requests in flight, and the response size limit.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensurePKI, ensureServingCert } from '../../src/devenv/pki.js';
import { VimTransportError } from '../../src/vsphere/faults.js';
import { Transport } from '../../src/vsphere/transport.js';

describe('vSphere transport', () => {
  let dir: string;
  let server: https.Server;
  let ca: Buffer;
  let inFlight = 0;
  let maxSeen = 0;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-transport-'));
    const pki = await ensurePKI(dir);
    const { cert, key } = await ensureServingCert(pki, 'srv', { dns: ['localhost'], ips: ['127.0.0.1'] });
    ca = await readFile(pki.caCert);
    server = https.createServer({ cert: await readFile(cert), key: await readFile(key) }, (req, res) => {
      if (req.url === '/hang') return; // never answers
      if (req.url === '/big') return res.end('x'.repeat(2 * 1024 * 1024));
      inFlight++;
      maxSeen = Math.max(maxSeen, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('ok');
      }, 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const url = () => `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  it('gives up on a server that does not answer, with a TIMEOUT error', async () => {
    const t = new Transport({ url: url(), tls: { ca }, timeoutMs: 300 });
    const started = Date.now();
    const err = await t.request('GET', '/hang').catch((e: unknown) => e);
    assert.ok(err instanceof VimTransportError && err.code === 'TIMEOUT', String(err));
    assert.ok(Date.now() - started < 2000);
    t.close();
  });

  it('cancels a request when its AbortSignal fires', async () => {
    const t = new Transport({ url: url(), tls: { ca } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const err = await t.request('GET', '/hang', { signal: ac.signal }).catch((e: unknown) => e);
    assert.ok(err instanceof VimTransportError && err.code === 'ABORTED', String(err));
    t.close();
  });

  it('keeps at most maxConcurrent requests in flight', async () => {
    const t = new Transport({ url: url(), tls: { ca }, maxConcurrent: 3 });
    maxSeen = 0;
    const answers = await Promise.all(Array.from({ length: 12 }, () => t.request('GET', '/')));
    assert.ok(answers.every((a) => a.body === 'ok'));
    assert.equal(maxSeen, 3);
    t.close();
  });

  it('refuses a response above the size limit', async () => {
    const t = new Transport({ url: url(), tls: { ca }, maxResponseBytes: 1024 * 1024 });
    const err = await t.request('GET', '/big').catch((e: unknown) => e);
    assert.ok(err instanceof VimTransportError && err.code === 'TOO_LARGE', String(err));
    t.close();
  });

  it('refuses credentials in the URL', () => {
    assert.throws(() => new Transport({ url: 'https://u:secret@127.0.0.1', tls: {} }), /pass credentials separately/);
  });
});
