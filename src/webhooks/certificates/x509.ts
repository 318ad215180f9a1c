// X.509 certificates for the admission server, built with node:crypto alone: a DER encoder for the few
// ASN.1 types a certificate needs, ECDSA P-256 keys, and SHA-256 signatures. Enough for a self-signed CA and
// the serving certificates it signs; Node's own X509Certificate reads them back.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

// ---- DER ----

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const octetString = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const boolean = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
/** Context-specific tag `n`: constructed (explicit wrapping) or primitive (implicit). */
const context = (n: number, constructed: boolean, ...content: Buffer[]) =>
  tlv(0x80 | (constructed ? 0x20 : 0) | n, ...content);

/** A non-negative INTEGER from big-endian bytes (a leading 0 keeps it positive). */
function unsignedInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return tlv(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), to the second. */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-11-26T05:25:35.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20261126052535Z
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2))) : tlv(0x18, Buffer.from(digits));
}

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
};

const name = (commonName: string) => sequence(set(sequence(oid(OID.commonName), utf8(commonName))));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** The key identifier RFC 5280 suggests: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spki: Buffer): Buffer {
  // SubjectPublicKeyInfo = SEQUENCE { AlgorithmIdentifier, BIT STRING }; for P-256 the BIT STRING is the
  // last 66 bytes (tag, length, unused-bits octet, 65-byte point). Hash the point.
  return createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write 8 groups of 16 bits.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

// ---- certificates ----

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newKeyPair(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

export interface CertificateRequest {
  commonName: string;
  /** The subject's public key. */
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** A CA certificate (may sign others) rather than a serving certificate. */
  isCA: boolean;
  /** Subject alternative names: DNS names and IP addresses (serving certificates). */
  hosts?: string[];
  /** The signer; self-signed when omitted (the subject's own key must then be `selfKey`). */
  issuer?: { commonName: string; publicKey: KeyObject; privateKey: KeyObject };
  selfKey?: KeyObject;
}

/** A signed certificate, PEM-encoded. */
export function createCertificate(req: CertificateRequest): string {
  const spki = req.publicKey.export({ type: 'spki', format: 'der' });
  const issuerName = req.issuer?.commonName ?? req.commonName;
  const signingKey = req.issuer?.privateKey ?? req.selfKey;
  if (!signingKey) throw new Error('a self-signed certificate needs selfKey');
  const issuerSPKI = req.issuer ? req.issuer.publicKey.export({ type: 'spki', format: 'der' }) : spki;

  const extensions = [
    extension(OID.basicConstraints, true, req.isCA ? sequence(boolean(true)) : sequence()),
    // digitalSignature (bit 0), plus keyCertSign (5) and cRLSign (6) for a CA.
    extension(OID.keyUsage, true, req.isCA ? bitString(Buffer.from([0x86]), 1) : bitString(Buffer.from([0x80]), 7)),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
    extension(OID.authorityKeyIdentifier, false, sequence(context(0, false, keyIdentifier(issuerSPKI)))),
  ];
  if (!req.isCA) extensions.push(extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))));
  if (req.hosts?.length) {
    const names = req.hosts.map((h) =>
      isIP(h) ? context(7, false, ipBytes(h)) : context(2, false, Buffer.from(h, 'ascii')),
    );
    extensions.push(extension(OID.subjectAltName, false, sequence(...names)));
  }
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive
  const algorithm = sequence(oid(OID.ecdsaWithSHA256));
  const tbs = sequence(
    context(0, true, unsignedInteger(Buffer.from([2]))), // version 3
    unsignedInteger(serial),
    algorithm,
    name(issuerName),
    sequence(time(req.notBefore), time(req.notAfter)),
    name(req.commonName),
    spki,
    context(3, true, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signingKey); // DER-encoded ECDSA signature
  return pem('CERTIFICATE', sequence(tbs, algorithm, bitString(signature)));
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

export function privateKeyPEM(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The certificates in a PEM bundle, in order. */
export function splitPEM(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
