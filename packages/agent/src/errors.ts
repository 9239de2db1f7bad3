/**
 * Typed agent errors with stable codes. The bus maps them to BOSH's exception envelope
 * (`{"exception":{"message":…}}`) at the edge; never match on message text, match on `code`.
 */
export const AgentErrorCode = {
  UnknownMessage: 'unknown_message',
  InvalidArguments: 'invalid_arguments',
  TaskNotFound: 'task_not_found',
  DigestMismatch: 'digest_mismatch',
  /** A rootfs.tgz whose rootfs.MF.sig is missing, malformed or not by a key the root trusts. */
  UntrustedRootfs: 'untrusted_rootfs',
  BlobFetch: 'blob_fetch',
  BlobUpload: 'blob_upload',
  UnsafeArchive: 'unsafe_archive',
  MonitSyntax: 'monit_syntax',
  Supervision: 'supervision',
  ScriptFailed: 'script_failed',
  Disk: 'disk',
  Settings: 'settings',
  Cancelled: 'cancelled',
} as const;
export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
}

/** A broken invariant: a bug in Refit, never a user error. */
export class BugError extends Error {
  override name = 'BugError';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
