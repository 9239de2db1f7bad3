import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiDigest, strongestDigest } from '@refit/protocol';
import { BugError } from '../errors.ts';
import { downloadRemote } from '../stemcells/download-remote.ts';
import type { ScratchSpace } from '../stemcells/scratch-space.ts';
import { UploadLost } from '../stemcells/upload-errors.ts';
import type { TaskContext } from '../tasks/task-context.ts';
import { ReleaseSha1DoesNotMatch } from './release-errors.ts';
import { RELEASE_ARCHIVE, type UpdateReleaseParams } from './upload-release-route.ts';

/**
 * The release tarball on disk: the uploaded file, or, for a URL, `Downloading remote release`
 * (hashing in the same pass) then `Verifying remote release` when a digest was given (the
 * strongest algorithm of a multi-digest). Returns the archive's path.
 */
export async function fetchRelease(options: {
  readonly ctx: TaskContext;
  readonly params: UpdateReleaseParams;
  readonly scratch: ScratchSpace;
}): Promise<string> {
  const { ctx, params } = options;
  if (!options.scratch.owns(params.scratchDir)) {
    throw new BugError(`upload scratch folder '${params.scratchDir}' is not under ${options.scratch.root}`);
  }
  const file = join(params.scratchDir, RELEASE_ARCHIVE);
  const source = params.source;
  if (source.kind === 'file') {
    try {
      await stat(file);
    } catch (error) {
      throw new UploadLost(
        'The uploaded release is gone (the director restarted before the task ran); upload it again',
        {
          cause: error,
        },
      );
    }
    return file;
  }
  const expected = source.digest === undefined ? null : strongestDigest(MultiDigest.parse(source.digest));
  const downloadStage = ctx.events.stage('Downloading remote release', { total: 1 });
  const downloaded = await downloadStage.task('Downloading remote release', () =>
    downloadRemote({
      what: 'release',
      url: source.location,
      file,
      algorithms: expected ? [expected.algorithm] : [],
      signal: ctx.signal,
      debug: ctx.debug,
    }),
  );
  if (expected) {
    await ctx.events.stage('Verifying remote release', { total: 1 }).task('Verifying remote release', () => {
      const actual = downloaded.digests.get(expected.algorithm);
      if (actual !== expected.hex) {
        throw new ReleaseSha1DoesNotMatch(
          `Expected stream to have digest '${expected.algorithm}:${expected.hex}' but was '${expected.algorithm}:${actual ?? ''}'`,
        );
      }
      return Promise.resolve();
    });
  }
  return file;
}
