import type { TableData } from '../output.ts';
import { sortedRows } from './table-render.ts';

/** The stock CLI's `--json` document: `{"Tables": [...], "Blocks": [...], "Lines": [...]}`. */
export interface JsonDocument {
  tables: JsonTable[];
  blocks: string[];
  lines: string[];
}

interface JsonTable {
  readonly Content: string;
  readonly Header: Record<string, string>;
  readonly Rows: Record<string, string>[];
  readonly Notes: readonly string[] | null;
}

/** The stock CLI's column key: lowercase, runs of non-alphanumerics become `_`. */
export function headerKey(title: string): string {
  const key = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return key === '' ? '_' : key;
}

export function jsonTable(table: TableData): JsonTable {
  const keys = table.header.map((title, i) => {
    const key = headerKey(title);
    return key === '_' ? String(i) : key;
  });
  const header: Record<string, string> = {};
  table.header.forEach((title, i) => (header[keys[i] ?? String(i)] = title));
  const rows = sortedRows(table).map((row) => {
    const record: Record<string, string> = {};
    row.forEach((cell, i) => (record[keys[i] ?? `col_${i}`] = cell.text));
    return record;
  });
  return { Content: table.content ?? '', Header: header, Rows: rows, Notes: table.notes ?? null };
}

/**
 * Serialises as Go's json.MarshalIndent(…, "", "    ") does: sorted map keys, 4-space indent,
 * `<`, `>`, `&` escaped, empty lists as `null`.
 */
export function renderJsonDocument(document: JsonDocument): string {
  const value = {
    Tables: document.tables.length === 0 ? null : document.tables,
    Blocks: document.blocks.length === 0 ? null : document.blocks,
    Lines: document.lines.length === 0 ? null : document.lines,
  };
  const text = JSON.stringify(value, (_key, v: unknown) => sortKeys(v), 4);
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  // Struct fields (capitalised) keep their declared order; map keys are sorted.
  if (entries.every(([k]) => /^[A-Z]/.test(k))) return value;
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
