// Certificates and keys for the local control plane, made with the openssl command: one CA that signs the
// API server's and the webhook server's serving certificates, and the service-account signing key pair.
import { execFile } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PKI {
  dir: string;
  caCert: string;
  caKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 60_000 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('the openssl command is needed to make certificates; install openssl');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

/** Creates (once) the CA and service-account keys in `dir`. */
export async function ensurePKI(dir: string): Promise<PKI> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pki: PKI = {
    dir,
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    serviceAccountKey: path.join(dir, 'sa.key'),
    serviceAccountPub: path.join(dir, 'sa.pub'),
  };
  if (!(await exists(pki.caCert))) {
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
    await openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        'ca.key',
        '-sha256',
        '-days',
        '3650',
        '-subj',
        '/CN=vmop-local-ca',
        '-out',
        'ca.crt',
      ],
      dir,
    );
  }
  if (!(await exists(pki.serviceAccountKey))) {
    await openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
    await openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  }
  return pki;
}

/**
 * Issues (once) a certificate `name`.crt/.key for the given DNS names and IPs, signed by the CA: a serving
 * certificate, or with `usage` clientAuth one a client presents (the API server to webhooks, say).
 */
export async function ensureServingCert(
  pki: PKI,
  name: string,
  hosts: { dns: string[]; ips: string[] },
  usage: 'serverAuth' | 'clientAuth' = 'serverAuth',
): Promise<{ cert: string; key: string }> {
  const cert = path.join(pki.dir, `${name}.crt`);
  const key = path.join(pki.dir, `${name}.key`);
  if (await exists(cert)) return { cert, key };
  const san = [...hosts.dns.map((d) => `DNS:${d}`), ...hosts.ips.map((i) => `IP:${i}`)].join(',');
  const ext = path.join(pki.dir, `${name}.ext`);
  await writeFile(
    ext,
    `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=${usage}\nsubjectAltName=${san}\n`,
  );
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], pki.dir);
  await openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`], pki.dir);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '825',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    pki.dir,
  );
  return { cert, key };
}
