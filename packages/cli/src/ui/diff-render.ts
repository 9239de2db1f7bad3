import type { DiffLineData } from '../output.ts';

const green = (text: string) => `\u001b[32m${text}\u001b[0m`;
const red = (text: string) => `\u001b[31m${text}\u001b[0m`;

/** The stock CLI's diff lines: `+ ` added (green), `- ` removed (red), two spaces for context. */
export function renderDiff(lines: readonly DiffLineData[], color: boolean): string {
  return lines
    .map((l) => {
      if (l.mark === 'added') return `${color ? green(`+ ${l.text}`) : `+ ${l.text}`}\n`;
      if (l.mark === 'removed') return `${color ? red(`- ${l.text}`) : `- ${l.text}`}\n`;
      return `  ${l.text}\n`;
    })
    .join('');
}
