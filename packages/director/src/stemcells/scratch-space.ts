import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * One folder under the director's tmpDir for the uploads of one artifact kind
 * (`<tmpDir>/stemcell-uploads`, `<tmpDir>/rootfs-uploads`). Each upload gets its own
 * sub-folder holding the received archive and whatever is extracted from it; the task removes
 * it when it ends, and `clear()` at start removes what uploads that died with the director left.
 */
export class ScratchSpace {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async create(): Promise<string> {
    await mkdir(this.root, { recursive: true });
    return mkdtemp(join(this.root, 'upload-'));
  }

  /** True for a folder `create()` could have made: a direct child of the root. */
  owns(dir: string): boolean {
    const absolute = resolve(dir);
    return dirname(absolute) === this.root && absolute.slice(this.root.length + 1).startsWith('upload-');
  }

  async remove(dir: string): Promise<void> {
    if (!this.owns(dir)) return;
    await rm(dir, { recursive: true, force: true });
  }

  /** Removes every upload folder; returns how many there were. */
  async clear(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    await Promise.all(names.map((name) => rm(join(this.root, name), { recursive: true, force: true })));
    return names.length;
  }
}
