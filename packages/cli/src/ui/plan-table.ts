import type { PlanRow } from '../director-client/vm-infos.ts';
import { text, type Cell, type TableData } from '../output.ts';
import { formatBytes } from './time-format.ts';

const bytes = (value: number | undefined): Cell =>
  value === undefined ? text('') : { text: formatBytes(value), sortKey: { kind: 'number', value } };

/** `deploy --dry-run`: what the rollout would do to each instance, in the director's order. */
export function planTable(rows: readonly PlanRow[]): TableData {
  return {
    content: 'instances',
    title: 'Plan',
    header: ['Instance', 'AZ', 'Action', 'Strategy', 'Reason', 'Download'],
    rows: rows.map((r) => [
      text(r.instance),
      text(r.az),
      text(r.action),
      text(r.strategy),
      text(r.reason),
      bytes(r.downloadBytes),
    ]),
  };
}
