import { z } from 'zod';

/*
 * Building blocks for commands' argument schemas: each command validates its raw positionals and
 * flags once, into a typed value.
 */

export const noPositionals = z.array(z.string()).max(0, { message: 'this command takes no arguments' });

/** Exactly one positional, named for the usage message. */
export const onePositional = (name: string) =>
  z
    .array(z.string())
    .length(1, { message: `expected one argument: ${name}` })
    .transform((values) => values[0] ?? '');

/** At most one positional. */
export const optionalPositional = (name: string) =>
  z
    .array(z.string())
    .max(1, { message: `expected at most one argument: ${name}` })
    .transform((values) => values[0]);

export const optionalString = z.string().optional();
export const flag = z
  .boolean()
  .optional()
  .transform((value) => value === true);

/** A positive integer given as a string positional or flag (`task 12`). */
export const positiveInt = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, { message: `expected ${name} to be a positive integer` })
    .transform(Number)
    .refine((n) => n > 0, { message: `expected ${name} to be a positive integer` });

/** `NAME/VERSION` as the stock CLI's slugs. */
export const nameVersionSlug = z.string().transform((slug, ctx) => {
  const slash = slug.indexOf('/');
  const name = slash === -1 ? '' : slug.slice(0, slash);
  const version = slash === -1 ? '' : slug.slice(slash + 1);
  if (name === '' || version === '') {
    ctx.addIssue({ code: 'custom', message: `Expected '${slug}' to be in format 'NAME/VERSION'` });
    return z.NEVER;
  }
  return { name, version };
});
