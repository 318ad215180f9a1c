// What the webhook certificate Secret should hold at a given moment: a CA and a serving certificate it
// signed, each renewed when a third of its lifetime is left. A renewed CA is put in front of the old one in
// ca.crt (the bundle the API server trusts) so that certificates signed by either verify during the swap.
// Pure: the caller reads the Secret, calls planCertificates, and writes what it returns.
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { createCertificate, newKeyPair, privateKeyPEM, splitPEM } from './x509.js';

/** The Secret's data keys (type kubernetes.io/tls, with the CA beside the serving pair). */
export interface CertificateData {
  /** PEM bundle of the CAs the API server should trust, the current (signing) one first. */
  'ca.crt': string;
  'ca.key': string;
  'tls.crt': string;
  'tls.key': string;
}

export interface CertificatePolicy {
  /** Names the serving certificate must cover (the webhook Service's DNS names, or loopback addresses). */
  hosts: string[];
  /** Lifetime of a serving certificate. */
  validityMs: number;
  /** Lifetime of the CA. */
  caValidityMs: number;
}

export interface CertificatePlan {
  /** New Secret data, when something must change; undefined when the current data is good. */
  data?: CertificateData;
  /** Why it changes (for the log and the Event). */
  reasons: string[];
  /** When to look again (the next renewal time). */
  nextCheck: Date;
}

const CA_NAME = 'vmop-webhook-ca';
const SERVING_NAME = 'vmop-webhook';

/** Renewal time: two thirds into the certificate's lifetime. */
function renewAt(cert: X509Certificate): Date {
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  return new Date(from + ((to - from) * 2) / 3);
}

function parseCert(pem: string | undefined): X509Certificate | undefined {
  if (!pem) return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function parseKey(pem: string | undefined): KeyObject | undefined {
  if (!pem) return undefined;
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

/** The certificate names `host` exactly among its DNS names, or lists it as an IP address. */
function covers(cert: X509Certificate, host: string): boolean {
  if (isIP(host)) return cert.checkIP(host) !== undefined;
  return (cert.subjectAltName ?? '').split(', ').includes(`DNS:${host}`);
}

/** The key pair matches and is the EC P-256 kind this code signs with. */
function keyMatches(cert: X509Certificate, key: KeyObject): boolean {
  const pub = createPublicKey(key);
  return (
    key.asymmetricKeyType === 'ec' &&
    key.asymmetricKeyDetails?.namedCurve === 'prime256v1' &&
    pub.export({ type: 'spki', format: 'der' }).equals(cert.publicKey.export({ type: 'spki', format: 'der' }))
  );
}

/** Backdating for clock skew between the manager and the API server, at most a tenth of the lifetime. */
function skew(validityMs: number): number {
  return Math.min(60_000, validityMs / 10);
}

export function planCertificates(
  current: Partial<CertificateData> | undefined,
  now: Date,
  policy: CertificatePolicy,
): CertificatePlan {
  const reasons: string[] = [];
  // The bundle without expired CAs; its first entry is the signing CA, whose key is ca.key.
  const stored = splitPEM(current?.['ca.crt'] ?? '');
  let bundle = stored.filter((pem) => {
    const c = parseCert(pem);
    return c && new Date(c.validTo) > now;
  });
  if (bundle.length !== stored.length) reasons.push('expired CAs leave the bundle');
  let ca = parseCert(bundle[0]);
  let caKey = parseKey(current?.['ca.key']);
  let caKeyPEM = current?.['ca.key'];

  let renewCA: string | undefined;
  if (!ca || !caKey || !ca.ca || !keyMatches(ca, caKey)) renewCA = 'no usable CA';
  else if (now >= renewAt(ca)) renewCA = `the CA is due for renewal (expires ${ca.validTo})`;
  if (renewCA) {
    reasons.push(renewCA);
    const pair = newKeyPair();
    const caPEM = createCertificate({
      commonName: CA_NAME,
      publicKey: pair.publicKey,
      selfKey: pair.privateKey,
      isCA: true,
      notBefore: new Date(now.getTime() - skew(policy.caValidityMs)),
      notAfter: new Date(now.getTime() + policy.caValidityMs),
    });
    caKeyPEM = privateKeyPEM(pair.privateKey);
    // The previous CAs stay behind the new one while certificates they signed live on.
    bundle = [caPEM, ...bundle];
    ca = new X509Certificate(caPEM);
    caKey = pair.privateKey;
  }
  const trusted = bundle.map((pem) => new X509Certificate(pem));

  const serving = parseCert(current?.['tls.crt']);
  const servingKey = parseKey(current?.['tls.key']);
  let reissue: string | undefined;
  if (!serving || !servingKey || !keyMatches(serving, servingKey)) reissue = 'no usable serving certificate';
  else if (new Date(serving.validTo) <= now) reissue = 'the serving certificate has expired';
  else if (!trusted.some((c) => serving.checkIssued(c) && serving.verify(c.publicKey)))
    reissue = 'the serving certificate was not signed by a trusted CA';
  else if (policy.hosts.some((h) => !covers(serving, h)))
    reissue = `the serving certificate does not cover ${policy.hosts.join(', ')}`;
  else if (now >= renewAt(serving) && !renewCA)
    // Right after a CA renewal a still-valid certificate is kept one more round, so the API server has the
    // new CA in its caBundle before anything signed by it is served.
    reissue = `the serving certificate is due for renewal (expires ${serving.validTo})`;

  let tlsPEM = current?.['tls.crt'];
  let tlsKeyPEM = current?.['tls.key'];
  let servingCert = serving;
  if (reissue) {
    reasons.push(reissue);
    const pair = newKeyPair();
    tlsPEM = createCertificate({
      commonName: SERVING_NAME,
      publicKey: pair.publicKey,
      isCA: false,
      hosts: policy.hosts,
      notBefore: new Date(now.getTime() - skew(policy.validityMs)),
      // Never beyond the CA: a serving certificate outliving its CA would not verify.
      notAfter: new Date(Math.min(now.getTime() + policy.validityMs, new Date(ca!.validTo).getTime())),
      issuer: { commonName: CA_NAME, publicKey: ca!.publicKey, privateKey: caKey! },
    });
    tlsKeyPEM = privateKeyPEM(pair.privateKey);
    servingCert = new X509Certificate(tlsPEM);
  }
  let next = Math.min(renewAt(ca!).getTime(), renewAt(servingCert!).getTime());
  if (renewCA && !reissue) {
    // The kept serving certificate: look again soon, before it expires.
    const left = new Date(servingCert!.validTo).getTime() - now.getTime();
    next = now.getTime() + Math.min(30_000, left / 2);
  }
  const nextCheck = new Date(Math.max(next, now.getTime() + 1000));
  if (reasons.length === 0) return { reasons, nextCheck };
  return {
    data: { 'ca.crt': bundle.join(''), 'ca.key': caKeyPEM!, 'tls.crt': tlsPEM!, 'tls.key': tlsKeyPEM! },
    reasons,
    nextCheck,
  };
}
