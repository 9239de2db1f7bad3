/**
 * Typed director errors with BOSH's numbered codes (reference §1.2). Mapped to
 * `{"code","description"}` + HTTP status at the API edge, and to the event log's error line
 * inside tasks. Never match on message text: match on `code` or on the class.
 */
export class DirectorError extends Error {
  readonly code: number;
  readonly httpStatus: number;
  constructor(code: number, httpStatus: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

/** A broken invariant: a bug in Refit, never a user error. */
export class BugError extends Error {
  override name = 'BugError';
}

const defineError = (code: number, httpStatus: number) =>
  class extends DirectorError {
    static readonly code = code;
    constructor(message: string, options?: ErrorOptions) {
      super(code, httpStatus, message, options);
    }
  };

export const TaskNotFound = defineError(10000, 404);
export const TaskInvalidState = defineError(10001, 400);
export const ValidationInvalidType = defineError(40000, 400);
export const ValidationMissingField = defineError(40001, 400);
export const ValidationViolatedMin = defineError(40002, 400);
export const BadManifest = defineError(40003, 400);
export const StemcellInvalidArchive = defineError(50000, 400);
export const StemcellInvalidImage = defineError(50001, 400);
export const StemcellAlreadyExists = defineError(50002, 400);
export const StemcellNotFound = defineError(50003, 404);
export const StemcellInUse = defineError(50004, 400);
export const StemcellSha1DoesNotMatch = defineError(50005, 400);
export const StemcellNotSupported = defineError(50006, 400);
export const RootfsInvalidArchive = defineError(51000, 400);
export const RootfsAlreadyExists = defineError(51002, 400);
export const RootfsNotFound = defineError(51003, 404);
export const RootfsInUse = defineError(51004, 400);
export const RootfsDigestDoesNotMatch = defineError(51005, 400);
// Not a BOSH number (BOSH has no signed stemcells): a rootfs.MF.sig missing, malformed or untrusted.
export const RootfsSignatureInvalid = defineError(51006, 400);
export const ResourceNotFound = defineError(100, 404);
// Not a BOSH number (BOSH reports CPI failures as generic errors); 100001 is BOSH's ResourceError.
export const CpiCallFailed = defineError(100200, 500);
export const LockTimeout = defineError(100100, 409);
export const ConfigNotFound = defineError(440012, 404);
export const ConfigIdMismatch = defineError(440013, 412);
export const DeploymentNotFound = defineError(70000, 404);
export const TaskCancelled = defineError(10003, 400);
export const ContextIdViolatedMax = defineError(70010, 400);
