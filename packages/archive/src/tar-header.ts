import type { Header } from 'tar-stream';

/** Entry types this package understands; anything else in an archive is `unknown`. */
export type TarEntryType =
  | 'file'
  | 'contiguous-file'
  | 'directory'
  | 'symlink'
  | 'link'
  | 'character-device'
  | 'block-device'
  | 'fifo'
  | 'unknown';

/** One member's header, normalized (numbers and strings always present). */
export interface TarHeader {
  /** The name exactly as stored (long names from pax/GNU headers applied). */
  readonly name: string;
  readonly type: TarEntryType;
  readonly size: number;
  /** Permission bits including setuid/setgid/sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: Date;
  /** Target of a symlink or hard link; null otherwise. */
  readonly linkname: string | null;
  readonly devmajor: number;
  readonly devminor: number;
}

const known: ReadonlySet<string> = new Set([
  'file',
  'contiguous-file',
  'directory',
  'symlink',
  'link',
  'character-device',
  'block-device',
  'fifo',
]);

/** tar-stream's decoded header (fields may be null for odd archives, whatever its types say). */
export function toTarHeader(raw: Partial<Header> & Pick<Header, 'name'>): TarHeader {
  const type: string = raw.type ?? 'unknown';
  return {
    name: raw.name,
    type: known.has(type) ? (type as TarEntryType) : 'unknown',
    size: raw.size ?? 0,
    mode: (raw.mode ?? 0o644) & 0o7777,
    uid: raw.uid ?? 0,
    gid: raw.gid ?? 0,
    mtime: raw.mtime ?? new Date(0),
    linkname: raw.linkname ?? null,
    devmajor: raw.devmajor ?? 0,
    devminor: raw.devminor ?? 0,
  };
}
