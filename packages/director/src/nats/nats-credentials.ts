import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

/** One NATS user: the name and its password (hex, so it needs no quoting in URLs or config). */
export const NatsUser = z.object({ user: z.string().min(1), password: z.string().min(1) });
export type NatsUser = z.infer<typeof NatsUser>;

/**
 * `DIR/nats/credentials.json` (mode 0600): the embedded server's users and the port it took the
 * first time. Kept across restarts on purpose: every VM's settings carry the agents' URL, so the
 * port and the agents' password must not change under them.
 */
export const NatsCredentialsFile = z.object({
  port: z.number().int().min(1).max(65535).nullable(),
  director: NatsUser,
  hm: NatsUser,
  agents: NatsUser,
});
export type NatsCredentialsFile = z.infer<typeof NatsCredentialsFile>;

const secret = () => randomBytes(24).toString('hex');

export async function loadOrCreateNatsCredentials(path: string): Promise<NatsCredentialsFile> {
  try {
    return NatsCredentialsFile.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${path}: not a valid NATS credentials file`, { cause: error });
    }
  }
  const made: NatsCredentialsFile = {
    port: null,
    director: { user: 'director', password: secret() },
    hm: { user: 'hm', password: secret() },
    agents: { user: 'agent', password: secret() },
  };
  await saveNatsCredentials(path, made);
  return made;
}

/** Atomic replace, mode 0600. */
export async function saveNatsCredentials(path: string, credentials: NatsCredentialsFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}
