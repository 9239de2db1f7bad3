import { appendFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Blobstore } from '../blobstore/blobstore.ts';
import type { Db } from '../db/db.ts';
import { deleteUnreferencedBlobs } from './blob-references.ts';

/**
 * The blobs an upload in progress has stored but no row names yet, one id per line in
 * `<stateDir>/release-pending/<upload>.blobs` (outside tmpDir, which is emptied at start). When
 * the director dies mid-upload, the task's `recover` (or, failing that, the feature's startup)
 * deletes those of them nothing names, so a crash leaves no orphan blob either.
 */
export class PendingBlobs {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The pending file of the upload whose scratch folder is `scratchDir`. */
  fileFor(scratchDir: string): string {
    return join(this.root, `${basename(scratchDir)}.blobs`);
  }

  owns(file: string): boolean {
    return dirname(resolve(file)) === this.root && file.endsWith('.blobs');
  }

  async add(file: string, blobstoreId: string): Promise<void> {
    if (!this.owns(file)) return;
    await mkdir(this.root, { recursive: true });
    await appendFile(file, `${blobstoreId}\n`);
  }

  async remove(file: string): Promise<void> {
    if (this.owns(file)) await rm(file, { force: true });
  }

  /** Deletes the unreferenced blobs a pending file lists, then the file. */
  async settle(file: string, db: Db, blobstore: Blobstore): Promise<string[]> {
    if (!this.owns(file)) return [];
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const ids = text.split('\n').filter((id) => /^[0-9a-f]{64}$/.test(id));
    const deleted = await deleteUnreferencedBlobs(db, blobstore, ids);
    await this.remove(file);
    return deleted;
  }

  /** Settles every pending file (at start, after interrupted tasks were recovered). */
  async settleAll(db: Db, blobstore: Blobstore): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    let deleted = 0;
    for (const name of names) deleted += (await this.settle(join(this.root, name), db, blobstore)).length;
    return deleted;
  }
}
