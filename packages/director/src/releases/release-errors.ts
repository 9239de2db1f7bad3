import { DirectorError } from '../errors.ts';

/** BOSH's release, package and job errors (director `errors.rb`), with their numbers. */
const defineError = (code: number, httpStatus = 400) =>
  class extends DirectorError {
    static readonly code = code;
    constructor(message: string, options?: ErrorOptions) {
      super(code, httpStatus, message, options);
    }
  };

export const ReleaseInvalidArchive = defineError(30002);
export const ReleaseManifestNotFound = defineError(30003);
export const ReleaseNotFound = defineError(30005, 404);
export const ReleaseVersionNotFound = defineError(30006, 404);
export const ReleaseInUse = defineError(30007);
export const ReleaseVersionInUse = defineError(30008);
export const ReleaseVersionInvalid = defineError(30010);
export const ReleaseInvalidPackage = defineError(30012);
export const ReleaseExistingJobFingerprintMismatch = defineError(30013);
export const ReleaseVersionCommitHashMismatch = defineError(30014);
export const ReleaseSha1DoesNotMatch = defineError(30015);
export const PackageInvalidArchive = defineError(60000);
export const PackageMissingSourceCode = defineError(60001);
export const JobInvalidArchive = defineError(80000);
export const JobMissingManifest = defineError(80001);
export const JobMissingTemplateFile = defineError(80002);
export const JobMissingMonit = defineError(80004);
export const JobInvalidPropertySpec = defineError(80008);
export const JobInvalidLinkSpec = defineError(80013);
export const JobDuplicateLinkName = defineError(80014);
export const BadYamlManifest = defineError(440001);
export const JobMissingPackage = defineError(80003);
