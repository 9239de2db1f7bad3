import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** `DIR/credentials.json`: the admin client and its secret (mode 0600). */
export const CredentialsFile = z.object({ client: z.string().min(1), client_secret: z.string().min(1) });
export type CredentialsFile = z.infer<typeof CredentialsFile>;

/** Made at the first start with a random secret, read back on later starts. */
export async function loadOrCreateCredentials(stateDir: string): Promise<CredentialsFile> {
  const path = join(stateDir, 'credentials.json');
  try {
    return CredentialsFile.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${path}: not a valid credentials file`, { cause: error });
    }
  }
  const credentials = { client: 'admin', client_secret: randomBytes(24).toString('base64url') };
  // Written aside and linked into place (link, unlike rename, never replaces an existing file):
  // the health monitor reads this file, and a crash mid-write must not leave it empty.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(credentials)}\n`, { mode: 0o600 });
  try {
    await link(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
  return credentials;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Checks an `Authorization` header against the credentials, in constant time whatever the
 * input's length. Returns the client name, or null when missing or wrong.
 */
export function basicAuthUser(header: string | undefined, credentials: CredentialsFile): string | null {
  if (header === undefined) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match === null) return null;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const client = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  const clientOk = timingSafeEqual(digest(client), digest(credentials.client));
  const secretOk = timingSafeEqual(digest(secret), digest(credentials.client_secret));
  return clientOk && secretOk ? credentials.client : null;
}
