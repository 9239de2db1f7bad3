export { ArchiveError, ArchiveErrorCode } from './archive-error.ts';
export {
  digestFile,
  DigestingStream,
  DigestMismatchError,
  hashStream,
  verifyMultiDigest,
  type DigestResult,
  type Digests,
} from './digest.ts';
export {
  checkEntry,
  EntryChecker,
  entryComponents,
  type CheckedEntry,
  type EntryHistory,
  type EntryPolicyOptions,
} from './entry-policy.ts';
export { extractTar, type ExtractOptions, type ExtractProgress, type ExtractResult } from './extract-tar.ts';
export { openTar, type OpenTarOptions, type TarEntry } from './open-tar.ts';
export {
  listTar,
  readTarFile,
  type ListTarOptions,
  type ReadTarFileOptions,
  type ReadTarOptions,
} from './read-tar.ts';
export type { TarEntryType, TarHeader } from './tar-header.ts';
