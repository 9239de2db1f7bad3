import { z } from 'zod';
import type { SkipDrain, StemcellStrategy } from '../director-client/deployments.ts';
import type { FlagSpec } from '../flags/flag-spec.ts';

/*
 * Flags shared by `deploy` and the instance commands (`recreate`, `restart`, `stop`, `start`),
 * with the stock CLI's names and descriptions, plus Refit's `--strategy`.
 */

export const canariesFlag: FlagSpec = {
  name: 'canaries',
  kind: 'string',
  description: 'Override manifest values for canaries',
};
export const maxInFlightFlag: FlagSpec = {
  name: 'max-in-flight',
  kind: 'string',
  description: 'Override manifest values for max_in_flight',
};
export const strategyFlags: readonly FlagSpec[] = [
  {
    name: 'strategy',
    kind: 'string',
    valueName: 'reload|recreate',
    description:
      "How a changed stemcell reaches running VMs: 'reload' (swap the root and reboot) or 'recreate' (default)",
  },
  { name: 'update-stemcell-strategy', kind: 'string', description: 'Same as --strategy' },
];

/**
 * `--allow-downgrade`: with `--strategy reload`, reload instances whose stemcell goes to an older
 * version too (else those are recreated from the IaaS stemcell, as a BOSH stemcell rollback).
 */
export const allowDowngradeFlag: FlagSpec = {
  name: 'allow-downgrade',
  kind: 'boolean',
  description: 'Let --strategy reload move VMs to an older stemcell version (else they are recreated)',
};

/** `n` or `n%`, as the director accepts for canaries and max_in_flight. */
export const countOrPercent = z
  .string()
  .regex(/^\d+%?$/, { message: "expected a count or a percentage (e.g. '2' or '25%')" })
  .optional();

export const strategyName = z
  .enum(['reload', 'recreate'], { message: "expected 'reload' or 'recreate'" })
  .optional();

/** `--strategy` and `--update-stemcell-strategy` as one value; both given must agree. */
export function pickStrategy(
  flags: {
    readonly strategy?: StemcellStrategy | undefined;
    readonly 'update-stemcell-strategy'?: StemcellStrategy | undefined;
  },
  ctx: z.RefinementCtx,
): StemcellStrategy | undefined {
  const a = flags.strategy;
  const b = flags['update-stemcell-strategy'];
  if (a !== undefined && b !== undefined && a !== b) {
    ctx.addIssue({ code: 'custom', message: '--strategy and --update-stemcell-strategy disagree' });
    return undefined;
  }
  return a ?? b;
}

/** `--skip-drain[=IG[/ID][,…]]` (repeatable; alone it means every instance). */
export const skipDrainArg = z
  .string()
  .optional()
  .transform((value, ctx): SkipDrain => {
    if (value === undefined) return { kind: 'none' };
    const pieces = value.split(',');
    if (pieces.some((p) => p === '*' || p === '')) return { kind: 'all' };
    for (const piece of pieces) {
      if (!/^[^/]+(\/[^/]+)?$/.test(piece)) {
        ctx.addIssue({
          code: 'custom',
          message: `Expected '${piece}' to be in format 'INSTANCE-GROUP[/INSTANCE-ID]'`,
        });
        return z.NEVER;
      }
    }
    return { kind: 'some', slugs: pieces };
  });
