/** A command-line flag as go-flags (the stock CLI's parser) understands it. */
export type FlagKind =
  /** `--flag`; never takes a value. */
  | 'boolean'
  /** `--flag VALUE`, `--flag=VALUE`, `-fVALUE`, `-f VALUE`. */
  | 'string'
  /** As `string`, repeatable: the values are joined with `,` (go-flags' `[]string`). */
  | 'strings'
  /** `--flag` alone means `optionalValue`; a value only with `=` (`--recent=5`, `-r=5`). */
  | 'optional-int'
  /**
   * `--flag` alone means `optionalText`; a value only with `=` (`--skip-drain=web`). Repeatable:
   * the values are joined with `,` (go-flags' slice of optional values).
   */
  | 'optional-strings';

export interface FlagSpec {
  /** Long name without dashes; also the key in the parsed flags. */
  readonly name: string;
  readonly short?: string;
  readonly kind: FlagKind;
  readonly env?: string;
  readonly optionalValue?: number;
  readonly optionalText?: string;
  readonly valueName?: string;
  readonly description: string;
}

export type FlagValue = string | boolean | number;
export type FlagValues = Readonly<Record<string, FlagValue | undefined>>;

/** What a command's argument schema validates: raw positionals and flags, env already applied. */
export interface RawArgs {
  readonly positionals: readonly string[];
  readonly flags: FlagValues;
}
