// Tarballs for the agent's rootfs staging tests: members of root.tar and rootfs.tgz, and the
// install script a generic stemcell carries (it writes the boot record the agent then checks).
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';

export interface TarMember {
  readonly name: string;
  /** Default: a directory when the name ends with `/`, else a file. */
  readonly type?: 'file' | 'directory' | 'symlink' | 'link';
  readonly mode?: number;
  readonly linkname?: string;
  readonly body?: string | Buffer;
}

/** An uncompressed tar of `members`, in order; same members, same bytes (mtime fixed). */
export async function tarOf(members: readonly TarMember[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const out = pack.pipe(new PassThrough());
  out.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => out.on('end', resolve));
  for (const m of members) {
    const type = m.type ?? (m.name.endsWith('/') ? 'directory' : 'file');
    const header = {
      name: m.name,
      type,
      mode: m.mode ?? (type === 'directory' ? 0o755 : 0o644),
      mtime: new Date(0),
      ...(m.linkname ? { linkname: m.linkname } : {}),
    };
    pack.entry(header, m.body ?? '');
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A rootfs `install` script: records the staged root (`$1`) as the next boot, as real ones do. */
export const BOOT_RECORD_INSTALL = `#!/bin/sh
set -eu
mkdir -p "$(dirname "$REFIT_BOOT_RECORD")"
cat > "$REFIT_BOOT_RECORD" <<JSON
{"format":1,"root":"$1","name":"$REFIT_STEMCELL_NAME","version":"$REFIT_STEMCELL_VERSION","operating_system":"os",
 "root_archive_sha256":"$REFIT_ROOT_DIGEST","init":"/sbin/refit-init","fallback":{"root":"current","name":"n","version":"1"},
 "boot_attempts_before_fallback":2}
JSON
`;
