import type { Cell, SortKey, TableData } from '../output.ts';
import { compareVersions } from './version-order.ts';

export interface TableStyle {
  /** Non-TTY output (piped): no title, header, notes or footer; tab borders; first column repeated. */
  readonly dataOnly: boolean;
}

/** Rows in display order: the table's sortBy applied (stable). */
export function sortedRows(table: TableData): readonly (readonly Cell[])[] {
  const sortBy = table.sortBy ?? [];
  if (sortBy.length === 0) return table.rows;
  return [...table.rows].sort((a, b) => {
    for (const { column, asc } of sortBy) {
      const order = compareKeys(keyOf(a[column]), keyOf(b[column]));
      if (order !== 0) return asc ? order : -order;
    }
    return 0;
  });
}

/** A table in the stock CLI's layout (ui/table): padded columns, two-space borders, `-` for empty. */
export function renderTable(table: TableData, style: TableStyle): string {
  const border = style.dataOnly ? '\t' : '  ';
  const rows = sortedRows(table);
  let out = '';
  if (!style.dataOnly && table.title !== undefined && table.title !== '') out += `${table.title}\n\n`;

  if (table.transpose === true) {
    const blocks = rows.map((row) => table.header.map((title, i) => [title, displayText(row[i])]));
    const widths = columnWidths(blocks.flat());
    out += blocks.map((block) => writeRows(block, widths, border)).join('\n');
  } else {
    const grid: string[][] = [];
    if (!style.dataOnly && table.header.length > 0) grid.push([...table.header]);
    rows.forEach((row, r) => {
      const previous = rows[r - 1];
      grid.push(
        row.map((cell, c) => {
          const repeated =
            c === 0 && !style.dataOnly && previous !== undefined && previous[0]?.text === cell.text;
          return repeated ? '~' : displayText(cell);
        }),
      );
    });
    out += writeRows(grid, columnWidths(grid), border);
  }

  if (!style.dataOnly) {
    if (table.notes !== undefined && table.notes.length > 0) out += `\n${table.notes.join('\n')}\n`;
    if (table.content !== undefined && table.content !== '') out += `\n${rows.length} ${table.content}\n`;
  }
  return out;
}

function displayText(cell: Cell | undefined): string {
  const value = cell?.text ?? '';
  return value === '' ? '-' : value;
}

function columnWidths(grid: readonly (readonly string[])[]): number[] {
  const widths: number[] = [];
  for (const row of grid) {
    row.forEach((value, c) => {
      for (const part of value.split('\n')) widths[c] = Math.max(widths[c] ?? 0, [...part].length);
    });
  }
  return widths;
}

function writeRows(grid: readonly (readonly string[])[], widths: readonly number[], border: string): string {
  let out = '';
  for (const row of grid) {
    const cellLines = row.map((value) => value.split('\n'));
    const height = Math.max(1, ...cellLines.map((lines) => lines.length));
    for (let l = 0; l < height; l += 1) {
      out += cellLines
        .map((lines, c) => {
          const part = lines[l] ?? '';
          const last = c === cellLines.length - 1;
          return (last ? part : part.padEnd((widths[c] ?? 0) + part.length - [...part].length, ' ')) + border;
        })
        .join('');
      out += '\n';
    }
  }
  return out;
}

function keyOf(cell: Cell | undefined): SortKey {
  return cell?.sortKey ?? { kind: 'text', value: cell?.text ?? '' };
}

function compareKeys(a: SortKey, b: SortKey): number {
  if (a.kind === 'number' && b.kind === 'number') return Math.sign(a.value - b.value);
  if (a.kind === 'version' && b.kind === 'version') return compareVersions(a.value, b.value);
  const x = String(a.value);
  const y = String(b.value);
  return x === y ? 0 : x < y ? -1 : 1;
}
