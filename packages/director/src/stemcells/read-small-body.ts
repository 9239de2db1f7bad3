import type { Readable } from 'node:stream';
import { ArchiveError, ArchiveErrorCode } from '@refit/archive';

/** Reads an archive member that must be small (a manifest) as UTF-8 text. */
export async function readSmallBody(body: Readable, name: string, limitBytes = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      throw new ArchiveError(ArchiveErrorCode.MemberTooLarge, `${name} is larger than ${limitBytes} bytes`, {
        entryPath: name,
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
