// The webhook certificates made with node:crypto alone: OpenSSL and a real TLS handshake accept them, and the
// renewal plan replaces each certificate at two thirds of its life, keeps an old CA trusted during a CA
// swap, and repairs whatever is missing or foreign.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { planCertificates, type CertificateData } from '../../src/webhooks/certificates/plan.js';
import { splitPEM } from '../../src/webhooks/certificates/x509.js';

const run = promisify(execFile);
const HOSTS = ['vmop-webhook-service.vmop-system.svc', '127.0.0.1', '::1'];
const HOUR = 3_600_000;
const POLICY = { hosts: HOSTS, validityMs: 30 * 24 * HOUR, caValidityMs: 365 * 24 * HOUR };
const T0 = new Date('2026-11-26T06:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

function fresh(now = T0): CertificateData {
  const plan = planCertificates(undefined, now, POLICY);
  assert.ok(plan.data);
  return plan.data;
}

describe('webhook certificates', () => {
  it('issues a CA and a serving certificate that OpenSSL verifies for the service name and IPs', async () => {
    const data = planCertificates(undefined, new Date(), POLICY).data!;
    const ca = new X509Certificate(data['ca.crt']);
    const serving = new X509Certificate(data['tls.crt']);
    assert.equal(ca.ca, true);
    assert.equal(serving.ca, false);
    assert.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey));
    assert.equal(
      serving.subjectAltName,
      'DNS:vmop-webhook-service.vmop-system.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    assert.ok(serving.checkHost('vmop-webhook-service.vmop-system.svc'));
    assert.ok(serving.checkIP('127.0.0.1'));
    assert.equal(serving.checkHost('evil.example.com'), undefined);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-cert-'));
    try {
      await writeFile(path.join(dir, 'ca.crt'), data['ca.crt']);
      await writeFile(path.join(dir, 'tls.crt'), data['tls.crt']);
      const verify = await run('openssl', [
        'verify',
        '-CAfile',
        path.join(dir, 'ca.crt'),
        '-purpose',
        'sslserver',
        '-verify_hostname',
        'vmop-webhook-service.vmop-system.svc',
        path.join(dir, 'tls.crt'),
      ]);
      assert.match(verify.stdout, /tls\.crt: OK/);
      const text = (await run('openssl', ['x509', '-noout', '-text', '-in', path.join(dir, 'tls.crt')])).stdout;
      assert.match(text, /Version: 3/);
      assert.match(text, /TLS Web Server Authentication/);
      assert.match(text, /X509v3 Authority Key Identifier/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves TLS that a client trusting only the CA accepts, and a client checking another name refuses', async () => {
    const data = planCertificates(undefined, new Date(), POLICY).data!;
    const server = https.createServer({ cert: data['tls.crt'], key: data['tls.key'] }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const get = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, ca: data['ca.crt'], servername, path: '/' }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
    try {
      assert.equal(await get('vmop-webhook-service.vmop-system.svc'), 'ok');
      await assert.rejects(get('other.vmop-system.svc'), /altnames|does not match/);
    } finally {
      server.close();
    }
  });

  it('keeps good certificates and says when to look again', () => {
    const data = fresh();
    const plan = planCertificates(data, at(HOUR), POLICY);
    assert.equal(plan.data, undefined);
    assert.deepEqual(plan.reasons, []);
    // Two thirds of the serving lifetime (30 days plus the one-minute backdating).
    const serving = new X509Certificate(data['tls.crt']);
    const from = new Date(serving.validFrom).getTime();
    const to = new Date(serving.validTo).getTime();
    assert.equal(plan.nextCheck.getTime(), from + ((to - from) * 2) / 3);
  });

  it('renews the serving certificate at two thirds of its life, signed by the same CA', () => {
    const data = fresh();
    const plan = planCertificates(data, at(21 * 24 * HOUR), POLICY);
    assert.ok(plan.data);
    assert.match(plan.reasons.join(), /serving certificate is due for renewal/);
    assert.equal(plan.data['ca.crt'], data['ca.crt']);
    assert.equal(plan.data['ca.key'], data['ca.key']);
    assert.notEqual(plan.data['tls.crt'], data['tls.crt']);
    const renewed = new X509Certificate(plan.data['tls.crt']);
    assert.ok(renewed.verify(new X509Certificate(data['ca.crt']).publicKey));
    assert.equal(new Date(renewed.validTo).getTime(), at(51 * 24 * HOUR).getTime());
  });

  it('renews the CA in front of the old one, and moves the serving certificate to it at its own renewal', () => {
    const data = fresh();
    const oldCA = data['ca.crt'];
    // 250 days in: the CA (365 days) is past two thirds; the serving certificate is renewed every 20 days,
    // so bring it up to date first as the rotator would have.
    let current = data;
    for (let day = 20; day <= 240; day += 20)
      current = planCertificates(current, at(day * 24 * HOUR), POLICY).data ?? current;
    const swap = planCertificates(current, at(250 * 24 * HOUR), POLICY);
    assert.ok(swap.data);
    assert.match(swap.reasons.join(), /the CA is due for renewal/);
    const bundle = splitPEM(swap.data['ca.crt']);
    assert.equal(bundle.length, 2);
    assert.equal(bundle[1], oldCA);
    // The still-valid serving certificate stays until the API server trusts the new CA ...
    assert.equal(swap.data['tls.crt'], current['tls.crt']);
    assert.ok(swap.nextCheck.getTime() - at(250 * 24 * HOUR).getTime() <= 30_000);
    // ... which changes nothing by itself (the old CA is still trusted) ...
    assert.equal(planCertificates(swap.data, swap.nextCheck, POLICY).data, undefined);
    // ... until the serving certificate's own renewal (day 260) re-issues it from the new CA.
    const moved = planCertificates(swap.data, at(261 * 24 * HOUR), POLICY);
    assert.ok(moved.data);
    const serving = new X509Certificate(moved.data['tls.crt']);
    assert.ok(serving.verify(new X509Certificate(bundle[0]!).publicKey));
    assert.equal(splitPEM(moved.data['ca.crt']).length, 2);
    // Once the old CA has expired it leaves the bundle.
    const later = planCertificates(moved.data, at(366 * 24 * HOUR), POLICY);
    assert.ok(later.data);
    assert.deepEqual(splitPEM(later.data['ca.crt']), [bundle[0]]);
  });

  it('repairs a Secret that is empty, foreign or for other names', () => {
    const data = fresh();
    const other = fresh();
    for (const [label, broken, reason] of [
      ['empty', {}, /no usable CA/],
      ['garbage', { ...data, 'tls.crt': 'not a certificate' }, /no usable serving certificate/],
      ['swapped key', { ...data, 'tls.key': other['tls.key'] }, /no usable serving certificate/],
      [
        'foreign serving certificate',
        { ...data, 'tls.crt': other['tls.crt'], 'tls.key': other['tls.key'] },
        /not signed by a trusted CA/,
      ],
    ] as const) {
      const plan = planCertificates(broken, at(HOUR), POLICY);
      assert.ok(plan.data, label);
      assert.match(plan.reasons.join(), reason, label);
      const serving = new X509Certificate(plan.data['tls.crt']);
      assert.ok(serving.verify(new X509Certificate(splitPEM(plan.data['ca.crt'])[0]!).publicKey), label);
    }
    const renamed = planCertificates(data, at(HOUR), { ...POLICY, hosts: ['vmop.example.svc'] });
    assert.match(renamed.reasons.join(), /does not cover vmop.example.svc/);
    assert.ok(new X509Certificate(renamed.data!['tls.crt']).checkHost('vmop.example.svc'));
  });
});
