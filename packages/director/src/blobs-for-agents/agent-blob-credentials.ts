import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { basicAuthUser } from '../api/credentials.ts';

/** The agents' own user for `/blobs/…` (never the admin's). */
export const AgentBlobCredentials = z.object({ user: z.string().min(1), password: z.string().min(1) });
export type AgentBlobCredentials = z.infer<typeof AgentBlobCredentials>;

/**
 * `DIR/blobs-for-agents/credentials.json` (mode 0600), made at the first start and kept: every
 * VM's settings carry it, so it must not change under running VMs.
 */
export async function loadOrCreateAgentBlobCredentials(path: string): Promise<AgentBlobCredentials> {
  try {
    return AgentBlobCredentials.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${path}: not a valid credentials file`, { cause: error });
    }
  }
  const made = { user: 'agent', password: randomBytes(24).toString('hex') };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(made)}\n`, { mode: 0o600 });
  await rename(tmp, path);
  return made;
}

/** True when the `Authorization` header carries exactly these credentials (constant time). */
export function isAgentAuthorized(header: string | undefined, credentials: AgentBlobCredentials): boolean {
  return basicAuthUser(header, { client: credentials.user, client_secret: credentials.password }) !== null;
}
