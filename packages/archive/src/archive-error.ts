/** Stable reasons an archive is refused or cannot be read. Match on these, never on messages. */
export const ArchiveErrorCode = {
  AbsolutePath: 'absolute_path',
  ParentTraversal: 'parent_traversal',
  InvalidPath: 'invalid_path',
  LinkEscape: 'link_escape',
  LinkTargetMissing: 'link_target_missing',
  WriteThroughSymlink: 'write_through_symlink',
  EntryConflict: 'entry_conflict',
  DeviceFile: 'device_file',
  UnsupportedType: 'unsupported_type',
  Truncated: 'truncated',
  InvalidTar: 'invalid_tar',
  MemberTooLarge: 'member_too_large',
  DigestMismatch: 'digest_mismatch',
} as const;
export type ArchiveErrorCode = (typeof ArchiveErrorCode)[keyof typeof ArchiveErrorCode];

/**
 * An archive that is hostile, damaged or unreadable. `code` is stable; `entryPath` names the
 * offending member when there is one (the message names it too).
 */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
  readonly code: ArchiveErrorCode;
  readonly entryPath: string | null;

  constructor(code: ArchiveErrorCode, message: string, options?: ErrorOptions & { entryPath?: string }) {
    super(message, options);
    this.code = code;
    this.entryPath = options?.entryPath ?? null;
  }
}
