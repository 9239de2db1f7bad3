import { randomBytes, webcrypto } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** PEM text of the director's TLS identity; `caPem` is what clients trust (`DIR/ca.pem`). */
export interface TlsMaterial {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const YEAR_MS = 365 * 24 * 3600 * 1000;

const files = (stateDir: string) => ({
  ca: join(stateDir, 'ca.pem'),
  caKey: join(stateDir, 'ca.key'),
  cert: join(stateDir, 'server.pem'),
  key: join(stateDir, 'server.key'),
});

/**
 * The CA and server certificate under the state dir, made at the first start (ECDSA P-256,
 * SANs IP:127.0.0.1 and DNS:localhost, serverAuth) and reused afterwards. Keys are mode 0600.
 */
export async function loadOrCreateTlsMaterial(stateDir: string): Promise<TlsMaterial> {
  const paths = files(stateDir);
  const existing = await Promise.all([paths.ca, paths.cert, paths.key].map((path) => readIfExists(path)));
  const [caPem = null, certPem = null, keyPem = null] = existing;
  if (caPem !== null && certPem !== null && keyPem !== null) return { caPem, certPem, keyPem };
  const made = await createTlsMaterial();
  await writeAside(paths.caKey, made.caKeyPem, 0o600);
  await writeAside(paths.key, made.keyPem, 0o600);
  await writeAside(paths.cert, made.certPem, 0o644);
  // ca.pem last: its presence means the set is complete.
  await writeAside(paths.ca, made.caPem, 0o644);
  return { caPem: made.caPem, certPem: made.certPem, keyPem: made.keyPem };
}

/** Written aside and renamed: a reader (the health monitor, a CLI) never sees a file half-written. */
async function writeAside(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, path);
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function createTlsMaterial(): Promise<TlsMaterial & { caKeyPem: string }> {
  // Loaded only when certificates are made (first start): later starts skip their memory.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto;
  x509.cryptoProvider.set(crypto as never);
  const notBefore = new Date(Date.now() - 3600 * 1000);
  const caKeys = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=Refit Director CA,O=Refit',
    notBefore,
    notAfter: new Date(notBefore.getTime() + 10 * YEAR_MS),
    signingAlgorithm: SIGNING,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=127.0.0.1,O=Refit',
    issuer: ca.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 5 * YEAR_MS),
    signingAlgorithm: SIGNING,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return {
    caPem: ca.toString('pem'),
    certPem: server.toString('pem'),
    keyPem: await privateKeyPem(crypto, serverKeys.privateKey),
    caKeyPem: await privateKeyPem(crypto, caKeys.privateKey),
  };
}

/** A positive 16-byte serial (the high bit cleared so DER does not read it as negative). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function privateKeyPem(crypto: webcrypto.Crypto, key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}
