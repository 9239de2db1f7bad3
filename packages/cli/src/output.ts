/*
 * What commands return: data, never text on a stream. `ui/` turns it into the stock CLI's layout
 * (tables, lines, blocks) or into its `--json` document.
 */

/** How a cell sorts: as text, as a number (ints, times), or as a BOSH semi-semantic version. */
export type SortKey =
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'version'; readonly value: string };

export interface Cell {
  /** What is shown; an empty string is shown as `-` in tables. */
  readonly text: string;
  readonly sortKey?: SortKey;
}

export interface ColumnSort {
  readonly column: number;
  readonly asc: boolean;
}

export interface TableData {
  /** Plural noun of the footer `N <content>`; no footer when absent. */
  readonly content?: string;
  readonly title?: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  readonly notes?: readonly string[];
  readonly sortBy?: readonly ColumnSort[];
  /** Print one block of `header value` lines per row (as `bosh env` does). */
  readonly transpose?: boolean;
}

/** A line of a manifest or config diff: `+` added, `-` removed, context otherwise. */
export interface DiffLineData {
  readonly text: string;
  readonly mark: 'added' | 'removed' | undefined;
}

export type OutputItem =
  | { readonly kind: 'line'; readonly text: string }
  /** A line for stderr (the stock UI's ErrorLinef), shown even when stdout is piped. */
  | { readonly kind: 'warning'; readonly text: string }
  | { readonly kind: 'block'; readonly text: string }
  | { readonly kind: 'table'; readonly table: TableData }
  /** A diff: `+ `/`- `/two-space lines, colored green/red on a terminal. */
  | { readonly kind: 'diff'; readonly lines: readonly DiffLineData[] };

export interface CommandResult {
  readonly items: readonly OutputItem[];
}

export const text = (value: string): Cell => ({ text: value, sortKey: { kind: 'text', value } });
export const int = (value: number): Cell => ({
  text: String(value),
  sortKey: { kind: 'number', value },
});
export const version = (value: string, suffix = ''): Cell => ({
  text: value === '' ? '' : value + suffix,
  sortKey: { kind: 'version', value },
});

export const line = (value: string): OutputItem => ({ kind: 'line', text: value });
export const warning = (value: string): OutputItem => ({ kind: 'warning', text: value });
export const block = (value: string): OutputItem => ({ kind: 'block', text: value });
export const tableItem = (table: TableData): OutputItem => ({ kind: 'table', table });
export const diffItem = (lines: readonly DiffLineData[]): OutputItem => ({ kind: 'diff', lines });
export const result = (...items: OutputItem[]): CommandResult => ({ items });
