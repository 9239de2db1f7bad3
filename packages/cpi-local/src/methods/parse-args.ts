import type { z } from 'zod';
import { CpiErrorType } from '@refit/protocol';
import { CpiFailure } from '../cpi-failure.ts';

/** Arguments are validated once, here; a malformed call is a `CpiError` naming the method. */
export function parseArgs<T extends z.ZodType>(
  method: string,
  schema: T,
  args: readonly unknown[],
): z.infer<T> {
  const parsed = schema.safeParse(args);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `argument ${i.path.join('.')}: ${i.message}`).join('; ');
    throw new CpiFailure(CpiErrorType.CpiError, `${method}: invalid arguments: ${issues}`);
  }
  return parsed.data;
}
