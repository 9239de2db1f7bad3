import { execFile } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { posix } from 'node:path';
import { directory, normalizeRootPath, symlink, textFile, type RootEntry } from './root-entry.ts';
import { NODE_PATH, VCAP_GID, VCAP_UID } from './refit-layer.ts';

const run = promisify(execFile);

export interface MinimalBaseSources {
  /** A static busybox (Debian's busybox-static installs /bin/busybox). */
  readonly busybox: string;
  /** The node executable to run the agent (the repository's pinned Node). */
  readonly node: string;
}

async function hostFile(path: string, file: string, mode: number): Promise<RootEntry> {
  const real = await realpath(file);
  const { size } = await stat(real);
  return { kind: 'file', path, mode, uid: 0, gid: 0, size, source: { hostFile: real } };
}

/** busybox and a symlink per applet, where `busybox --list-full` says the applet lives. */
async function busyboxEntries(busybox: string): Promise<RootEntry[]> {
  const { stdout } = await run(busybox, ['--list-full']);
  const entries = [await hostFile('bin/busybox', busybox, 0o755)];
  for (const line of stdout.split('\n')) {
    const applet = normalizeRootPath(line.trim());
    if (applet === '' || applet === 'bin/busybox' || !applet.includes('/')) continue;
    entries.push(symlink(applet, posix.relative(posix.dirname(applet), 'bin/busybox')));
  }
  return entries;
}

/** The shared libraries `ldd` lists for an executable, as [path in the root, host file]. */
export async function sharedLibraries(executable: string): Promise<[string, string][]> {
  const { stdout } = await run('ldd', [executable]);
  const found: [string, string][] = [];
  for (const line of stdout.split('\n')) {
    const match = /=>\s+(\/\S+)\s+\(/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match?.[1] !== undefined) found.push([normalizeRootPath(match[1]), match[1]]);
  }
  if (found.length === 0) throw new Error(`ldd lists no libraries for ${executable}`);
  return found;
}

/**
 * A small root assembled from host files, with no download: static busybox, node and the
 * libraries it links, and the files a BOSH agent and its jobs expect (/etc/passwd with vcap, …).
 */
export async function minimalBase(sources: MinimalBaseSources): Promise<RootEntry[]> {
  const entries: RootEntry[] = [
    directory('bin'),
    directory('sbin'),
    directory('usr/bin'),
    directory('usr/sbin'),
    directory('etc'),
    directory('proc', { mode: 0o555 }),
    directory('sys', { mode: 0o555 }),
    directory('dev'),
    directory('run'),
    directory('root', { mode: 0o700 }),
    directory('home/vcap', { mode: 0o750, uid: VCAP_UID, gid: VCAP_GID }),
    directory('tmp', { mode: 0o1777 }),
    directory('var/tmp', { mode: 0o1777 }),
    directory('var/log'),
    textFile(
      'etc/passwd',
      `root:x:0:0:root:/root:/bin/sh\nvcap:x:${VCAP_UID}:${VCAP_GID}:BOSH System User:/home/vcap:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n`,
    ),
    textFile('etc/group', `root:x:0:\nvcap:x:${VCAP_GID}:\nnogroup:x:65534:\n`),
    textFile('etc/shadow', 'root:*:19000:0:99999:7:::\nvcap:*:19000:0:99999:7:::\n', { mode: 0o640 }),
    textFile('etc/hosts', '127.0.0.1\tlocalhost\n'),
    textFile('etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n'),
    textFile(
      'etc/profile',
      'PATH=/var/vcap/bosh/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nexport PATH\n',
    ),
    ...(await busyboxEntries(sources.busybox)),
    await hostFile(NODE_PATH, sources.node, 0o755),
  ];
  for (const [path, file] of await sharedLibraries(sources.node)) {
    entries.push(await hostFile(path, file, 0o755));
  }
  return entries;
}
