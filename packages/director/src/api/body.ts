import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { ValidationInvalidType } from '../errors.ts';

const DEFAULT_LIMIT = 1024 * 1024;

/**
 * Reads a whole (small) request body as text, refusing more than `limitBytes`. Past the limit the
 * rest is drained and dropped (not buffered) so the client still reads the 400 answer.
 */
export function readText(request: { readonly body: Readable }, limitBytes = DEFAULT_LIMIT): Promise<string> {
  const body = request.body;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer | string) => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      size += buffer.length;
      if (size > limitBytes) {
        body.off('data', onData);
        body.off('end', onEnd);
        body.resume();
        reject(new ValidationInvalidType(`Request body is larger than ${limitBytes} bytes`));
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', reject);
  });
}

/** Reads a JSON body and validates it; any problem is a 400 ValidationInvalidType naming the field. */
export async function readJson<S extends z.ZodType>(
  request: { readonly body: Readable },
  schema: S,
  limitBytes = DEFAULT_LIMIT,
): Promise<z.infer<S>> {
  const text = await readText(request, limitBytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationInvalidType(`Request body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.');
    throw new ValidationInvalidType(`Invalid request body: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
