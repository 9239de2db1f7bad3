import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes JSON through a temporary file, flushed to disk, renamed into place, and the directory
 * flushed: after a crash the boot state is the old or the new document, never a torn one.
 */
export async function writeJsonDurable(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await open(tmp, 'w', 0o644);
  try {
    await file.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
