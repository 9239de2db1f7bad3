import type { DirectorInfo } from '../director-client/info.ts';
import { text, type TableData } from '../output.ts';

/** `bosh env`'s transposed table: Name, UUID, Version, Director Stemcell, CPI, Features, User. */
export function infoTable(info: DirectorInfo): TableData {
  const header = ['Name', 'UUID', 'Version'];
  const row = [text(info.name), text(info.uuid), text(info.version)];
  if (info.stemcellOs !== '') {
    header.push('Director Stemcell');
    row.push(text(`${info.stemcellOs}/${info.stemcellVersion}`));
  }
  if (info.cpi !== '') {
    header.push('CPI');
    row.push(text(info.cpi));
  }
  const features = Object.entries(info.features)
    .map(([name, enabled]) => `${name}: ${enabled ? 'enabled' : 'disabled'}`)
    .sort();
  if (features.length > 0) {
    header.push('Features');
    row.push(text(features.join('\n')));
  }
  header.push('User');
  row.push(text(info.user ?? '(not logged in)'));
  return { header, rows: [row], transpose: true };
}
