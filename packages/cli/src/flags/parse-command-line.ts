import { UsageError } from '../errors.ts';
import type { FlagSpec, FlagValue, FlagValues } from './flag-spec.ts';

export interface ParsedCommandLine {
  /** The first positional: the command name, or undefined when there is none. */
  readonly command: string | undefined;
  readonly positionals: readonly string[];
  readonly flags: FlagValues;
}

/**
 * Parses argv the way the stock CLI's go-flags does: global flags anywhere, command flags after
 * the command name, `--` ends flags. `commandFlags` is asked for the command's flags once the
 * command name is known (undefined: unknown command, reported by the caller).
 */
export function parseCommandLine(
  argv: readonly string[],
  globalFlags: readonly FlagSpec[],
  commandFlags: (command: string) => readonly FlagSpec[] | undefined,
): ParsedCommandLine {
  let specs: readonly FlagSpec[] = globalFlags;
  let command: string | undefined;
  const positionals: string[] = [];
  const flags: Record<string, FlagValue> = {};
  let onlyPositionals = false;

  const addPositional = (token: string): void => {
    if (command === undefined) {
      command = token;
      // A command's own flag wins over a global one of the same name (go-flags looks in the
      // command's group first): `upload-stemcell --version 1.2` is not the global --version.
      specs = [...(commandFlags(token) ?? []), ...globalFlags];
    } else {
      positionals.push(token);
    }
  };

  for (let i = 0; i < argv.length; i += 1) {
    const token = argv[i] ?? '';
    if (onlyPositionals || token === '-' || !token.startsWith('-')) {
      addPositional(token);
      continue;
    }
    if (token === '--') {
      onlyPositionals = true;
      continue;
    }
    const long = token.startsWith('--');
    const body = long ? token.slice(2) : token.slice(1);
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    let inlineValue = eq === -1 ? undefined : body.slice(eq + 1);
    let spec = long ? specs.find((s) => s.name === name) : specs.find((s) => s.short === name);
    if (!long && spec === undefined && name.length > 1) {
      // `-r5` style: a short flag glued to its value.
      spec = specs.find((s) => s.short === name[0]);
      if (spec !== undefined && (spec.kind === 'string' || spec.kind === 'strings'))
        inlineValue = body.slice(1);
      else spec = undefined;
    }
    const shown = long ? `--${name}` : `-${name}`;
    if (spec === undefined) throw new UsageError(`unknown flag \`${shown.replace(/^-+/, '')}'`);
    switch (spec.kind) {
      case 'boolean':
        if (inlineValue !== undefined) throw new UsageError(`bool flag \`${shown}' cannot have an argument`);
        flags[spec.name] = true;
        break;
      case 'optional-int': {
        const raw = inlineValue ?? String(spec.optionalValue ?? 0);
        const value = Number(raw);
        if (!Number.isInteger(value)) throw new UsageError(`invalid argument for flag \`${shown}': '${raw}'`);
        flags[spec.name] = value;
        break;
      }
      case 'optional-strings': {
        const value = inlineValue ?? spec.optionalText ?? '';
        const before = flags[spec.name];
        flags[spec.name] = typeof before === 'string' ? `${before},${value}` : value;
        break;
      }
      case 'string':
      case 'strings': {
        let value = inlineValue;
        if (value === undefined) {
          value = argv[i + 1];
          if (value === undefined) throw new UsageError(`expected argument for flag \`${shown}'`);
          i += 1;
        }
        const before = flags[spec.name];
        flags[spec.name] =
          spec.kind === 'strings' && typeof before === 'string' ? `${before},${value}` : value;
        break;
      }
    }
  }
  return { command, positionals, flags };
}

/** Fills flags absent from the command line from their environment variables, as go-flags does. */
export function applyEnvironment(
  flags: FlagValues,
  specs: readonly FlagSpec[],
  env: Readonly<Record<string, string | undefined>>,
): FlagValues {
  const merged: Record<string, FlagValue | undefined> = { ...flags };
  for (const spec of specs) {
    if (spec.env === undefined || merged[spec.name] !== undefined) continue;
    const raw = env[spec.env];
    if (raw === undefined || raw === '') continue;
    if (spec.kind === 'boolean') {
      const parsed = parseBool(raw);
      if (parsed === undefined)
        throw new UsageError(`invalid value '${raw}' in ${spec.env}: expected a boolean`);
      merged[spec.name] = parsed;
    } else {
      merged[spec.name] = raw;
    }
  }
  return merged;
}

function parseBool(raw: string): boolean | undefined {
  switch (raw.toLowerCase()) {
    case '1':
    case 't':
    case 'true':
    case 'yes':
      return true;
    case '0':
    case 'f':
    case 'false':
    case 'no':
      return false;
    default:
      return undefined;
  }
}
