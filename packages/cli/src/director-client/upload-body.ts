import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import type { RequestBody } from './https-transport.ts';

/** Called as bytes leave for the director: bytes sent so far of `total`. */
export type UploadProgress = (sent: number, total: number) => void;

/** A local file as a streamed `application/x-compressed` body (never read whole into memory). */
export async function fileUploadBody(path: string, onProgress?: UploadProgress): Promise<RequestBody> {
  const { size } = await stat(path);
  return {
    kind: 'stream',
    contentType: 'application/x-compressed',
    length: size,
    open: () => {
      let sent = 0;
      onProgress?.(0, size);
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          sent += chunk.length;
          onProgress?.(sent, size);
          done(null, chunk);
        },
      });
      const file = createReadStream(path);
      file.on('error', (error) => counter.destroy(error));
      return file.pipe(counter);
    },
  };
}

/** `{"location": URL, "sha1": DIGEST}`: the director downloads the artifact itself. */
export function remoteUploadBody(location: string, sha1: string | undefined): RequestBody {
  return {
    kind: 'bytes',
    contentType: 'application/json',
    data: JSON.stringify(sha1 === undefined || sha1 === '' ? { location } : { location, sha1 }),
  };
}
