import { readFile } from 'node:fs/promises';
import { CpiFailure } from '../cpi-failure.ts';

const candidates = ['/usr/bin/busybox', '/bin/busybox'];

/** An ELF64 executable with a PT_INTERP program header needs a dynamic loader. */
function needsLoader(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return true;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 <= elf.length && elf.readUInt32LE(at) === 3) return true;
  }
  return false;
}

/**
 * A statically linked busybox on the host: the boot runs it from the old root right after
 * pivot_root, where no dynamic loader is reachable. Debian's `busybox-static` provides it.
 */
export async function hostBusybox(configured: string | undefined): Promise<string> {
  for (const path of configured === undefined ? candidates : [configured]) {
    const bytes = await readFile(path).catch(() => null);
    if (bytes === null) continue;
    if (needsLoader(bytes)) {
      throw CpiFailure.cloud(
        `${path} is not a static x86-64 executable; install busybox-static (scripts/setup does)`,
      );
    }
    return path;
  }
  throw CpiFailure.cloud(`no static busybox found at ${candidates.join(' or ')}; install busybox-static`);
}
