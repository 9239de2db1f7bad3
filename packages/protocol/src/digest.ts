import { z } from 'zod';

/** Algorithms of a BOSH multi-digest, weakest first (reference §3.6). */
export const DigestAlgorithm = z.enum(['sha1', 'sha256', 'sha512']);
export type DigestAlgorithm = z.infer<typeof DigestAlgorithm>;

const hexLength: Record<DigestAlgorithm, number> = { sha1: 40, sha256: 64, sha512: 128 };

export interface DigestEntry {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
}

/**
 * A multi-digest string: a bare sha1 hex (legacy) or `algo:hex[;algo:hex...]`.
 * Parses into its entries, lowercase hex, each checked for its algorithm's length.
 */
export const MultiDigest = z.string().transform((text, ctx): DigestEntry[] => {
  const parts = text
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'digest is empty' });
    return z.NEVER;
  }
  const entries: DigestEntry[] = [];
  for (const part of parts) {
    const colon = part.indexOf(':');
    const algorithmText = colon === -1 ? 'sha1' : part.slice(0, colon).toLowerCase();
    const hex = (colon === -1 ? part : part.slice(colon + 1)).toLowerCase();
    const algorithm = DigestAlgorithm.safeParse(algorithmText);
    if (!algorithm.success) {
      ctx.addIssue({ code: 'custom', message: `unknown digest algorithm '${algorithmText}'` });
      return z.NEVER;
    }
    if (!new RegExp(`^[0-9a-f]{${hexLength[algorithm.data]}}$`).test(hex)) {
      ctx.addIssue({ code: 'custom', message: `'${part}' is not a valid ${algorithm.data} digest` });
      return z.NEVER;
    }
    entries.push({ algorithm: algorithm.data, hex });
  }
  return entries;
});
export type MultiDigest = z.infer<typeof MultiDigest>;

/** The strongest entry of a parsed multi-digest: the one an agent or director verifies. */
export function strongestDigest(entries: readonly DigestEntry[]): DigestEntry {
  const order: DigestAlgorithm[] = ['sha512', 'sha256', 'sha1'];
  for (const algorithm of order) {
    const found = entries.find((e) => e.algorithm === algorithm);
    if (found) return found;
  }
  throw new Error('strongestDigest of an empty digest');
}

export function formatMultiDigest(entries: readonly DigestEntry[]): string {
  return entries
    .map((e) => (e.algorithm === 'sha1' && entries.length === 1 ? e.hex : `${e.algorithm}:${e.hex}`))
    .join(';');
}
