import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ArchiveError, EntryChecker, openTar } from '@refit/archive';
import { StemcellManifest } from '@refit/protocol';
import { StemcellInvalidArchive, StemcellInvalidImage } from '../errors.ts';
import { parseManifest } from './parse-manifest.ts';
import { readSmallBody } from './read-small-body.ts';

const MANIFEST = 'stemcell.MF';
const IMAGE = 'image';

/** What `Extracting stemcell archive` leaves for `Verifying stemcell manifest`. */
export interface StemcellContents {
  /** Where the image was written (it may not exist: `readManifest` says so). */
  readonly imagePath: string;
  /** Parses stemcell.MF and checks that the image is there; throws BOSH's errors. */
  readManifest(): StemcellManifest;
}

/**
 * Reads the stemcell tarball (gzip or plain tar) once, checking every member against the
 * hostile-entry policy (no absolute paths, `..`, links out of the tree, device files), keeping
 * `stemcell.MF` in memory and streaming `image` to `<dest>/image`. Everything else is skipped.
 */
export async function extractStemcell(
  archive: string,
  dest: string,
  signal: AbortSignal,
): Promise<StemcellContents> {
  await mkdir(dest, { recursive: true });
  const imagePath = join(dest, IMAGE);
  const checker = new EntryChecker();
  let manifestText: string | null = null;
  let imageFound = false;
  try {
    for await (const entry of openTar(createReadStream(archive), { signal })) {
      const checked = checker.check(entry.header);
      if (checked.path === MANIFEST && checked.type === 'file') {
        manifestText = await readSmallBody(entry.body, MANIFEST);
      } else if (checked.path === IMAGE && (checked.type === 'file' || checked.type === 'contiguous-file')) {
        await pipeline(entry.body, createWriteStream(imagePath), { signal });
        imageFound = true;
      }
    }
  } catch (error) {
    if (error instanceof ArchiveError) {
      throw new StemcellInvalidArchive(`Extracting stemcell archive failed: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  return {
    imagePath,
    readManifest() {
      if (manifestText === null) throw new StemcellInvalidArchive(`Stemcell archive has no ${MANIFEST}`);
      const manifest = parseManifest(
        StemcellManifest,
        manifestText,
        MANIFEST,
        (m) => new StemcellInvalidArchive(m),
      );
      if (!imageFound) throw new StemcellInvalidImage('Stemcell image not found');
      return manifest;
    },
  };
}
