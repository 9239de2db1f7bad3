// Upload throughput and memory of refit-director for a large stemcell and generic stemcell
// (rootfs.tgz): each is generated on disk, uploaded raw over HTTPS to a real director (with the
// test CPI), and compared with a plain stream copy of the same file on the same disk, measured
// in the same run. The director's peak RSS is read from /proc/<pid>/status (VmHWM).
//
//   REFIT_BENCH_UPLOAD_MB=1024 npm run bench -- upload     (default 1024 MB; REFIT_BENCH_DIR=…;
//   REFIT_BENCH_NODE_FLAGS='none;--max-semi-space-size=1' the director flag sets compared)
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { stringify } from 'yaml';
import {
  startUploadLab,
  type UploadLab,
} from '../packages/director/src/stemcells/director-process.test-support.ts';

const MB = 1024 * 1024;
const sizeMb = Number(process.env.REFIT_BENCH_UPLOAD_MB ?? '1024');
// Director Node flag sets to compare, `;`-separated (`none` = as bin/refit-director runs it).
const flagSets = (process.env.REFIT_BENCH_NODE_FLAGS ?? 'none;--max-semi-space-size=1')
  .split(';')
  .map((set) => (set.trim() === 'none' ? [] : set.trim().split(/\s+/)));
const block = randomBytes(4 * MB); // incompressible, and 4 MB apart is beyond gzip's window

/** Writes `bytes` of incompressible data into a tar entry. */
async function fill(entry: TarEntryWriter, bytes: number): Promise<void> {
  for (let left = bytes; left > 0; left -= block.length) {
    const chunk = left >= block.length ? block : block.subarray(0, left);
    if (!entry.write(chunk)) await new Promise<void>((resolve) => entry.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    entry.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** Streams a gzip tar of `members` (written in order) to `path`. */
async function writeTgz(path: string, members: (pack: tar.Pack) => Promise<void>): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack, createGzip({ level: 1 }), createWriteStream(path));
  await members(pack);
  pack.finalize();
  await writing;
}

type TarEntryWriter = ReturnType<tar.Pack['entry']>;

function entry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): TarEntryWriter {
  return pack.entry({ mode: 0o644, ...header });
}

async function addText(pack: tar.Pack, name: string, text: string, mode = 0o644): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    pack.entry({ name, mode, size: Buffer.byteLength(text) }, text, (e) => (e ? reject(e) : resolve())),
  );
}

async function makeStemcell(path: string, bytes: number): Promise<void> {
  const sha1 = createHash('sha1');
  for (let left = bytes; left > 0; left -= block.length)
    sha1.update(left >= block.length ? block : block.subarray(0, left));
  const manifest = {
    name: 'bench-stemcell',
    version: '1',
    operating_system: 'ubuntu-noble',
    sha1: sha1.digest('hex'),
    api_version: 3,
    stemcell_formats: ['general-tar'],
    cloud_properties: {},
  };
  await writeTgz(path, async (pack) => {
    await addText(pack, 'stemcell.MF', stringify(manifest));
    await fill(entry(pack, { name: 'image', size: bytes }), bytes);
  });
}

async function makeRootfs(dir: string, path: string, bytes: number): Promise<void> {
  // root.tar first (its digest goes in rootfs.MF): a tree of 64 MB files plus a /dev node.
  const rootTar = join(dir, 'root.tar');
  const rootPack = tar.pack();
  const hash = createHash('sha256');
  const tee = new PassThrough();
  tee.on('data', (chunk: Buffer) => hash.update(chunk));
  const writing = pipeline(rootPack, tee, createWriteStream(rootTar));
  await new Promise<void>((resolve) =>
    rootPack.entry({ name: 'dev/', type: 'directory', mode: 0o755 }, () => resolve()),
  );
  await new Promise<void>((resolve) =>
    rootPack.entry(
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      () => resolve(),
    ),
  );
  const fileSize = 64 * MB;
  for (let i = 0, left = bytes; left > 0; i += 1, left -= fileSize) {
    const size = Math.min(fileSize, left);
    await fill(entry(rootPack, { name: `data/blob-${i}`, size }), size);
  }
  rootPack.finalize();
  await writing;
  const rootSize = (await stat(rootTar)).size;
  const manifest = {
    name: 'bench-rootfs',
    version: '1',
    operating_system: 'ubuntu-noble',
    api_version: 3,
    root_archive: { path: 'root.tar', sha256: hash.digest('hex'), size: rootSize },
    install: 'install',
  };
  await writeTgz(path, async (pack) => {
    await addText(pack, 'rootfs.MF', stringify(manifest));
    await addText(pack, 'install', '#!/bin/sh\nexit 0\n', 0o755);
    const out = entry(pack, { name: 'root.tar', size: rootSize });
    await pipeline(createReadStream(rootTar), out);
  });
  await rm(rootTar);
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

interface Row {
  flags: string;
  artifact: string;
  sizeMb: number;
  copyMbs: number;
  uploadMbs: number;
  taskS: number;
  endToEndMbs: number;
  rssMb: number;
}

async function measure(
  lab: UploadLab,
  flags: string,
  dir: string,
  artifact: string,
  path: string,
  route: string,
): Promise<Row> {
  const size = (await stat(path)).size;
  const [, copyS] = await timed(() =>
    pipeline(createReadStream(path), createWriteStream(join(dir, 'copy.tgz'))),
  );
  await rm(join(dir, 'copy.tgz'));
  const [reply, uploadS] = await timed(() =>
    lab.director.request('POST', route, {
      headers: { 'content-type': 'application/x-compressed', 'content-length': String(size) },
      body: createReadStream(path),
      timeoutMs: 600_000,
    }),
  );
  const id = lab.director.taskOf(reply);
  const [task, taskS] = await timed(() => lab.director.waitTask(id, 1_800_000));
  if (task.state !== 'done')
    throw new Error(`${artifact} task ${id} ended ${task.state}: ${task.result ?? ''}`);
  return {
    flags,
    artifact,
    sizeMb: size / MB,
    copyMbs: size / MB / copyS,
    uploadMbs: size / MB / uploadS,
    taskS,
    endToEndMbs: size / MB / (uploadS + taskS),
    rssMb: await peakRssMb(lab.director.pid),
  };
}

const dir = await mkdtemp(join(process.env.REFIT_BENCH_DIR ?? tmpdir(), 'refit-bench-upload-'));
let lab: UploadLab | null = null;
try {
  const stemcellPath = join(dir, 'stemcell.tgz');
  const rootfsPath = join(dir, 'rootfs.tgz');
  console.log(`generating a ${sizeMb} MB stemcell and rootfs in ${dir} ...`);
  await makeStemcell(stemcellPath, sizeMb * MB);
  await makeRootfs(dir, rootfsPath, sizeMb * MB);
  // As bin/refit-director runs it today, then with a smaller V8 semi-space (less garbage between GCs).
  const rows: Row[] = [];
  for (const flags of flagSets) {
    const label = flags.join(' ') || '(none)';
    lab = await startUploadLab({ backend: 'sqlite', cpiTimeoutSeconds: 600, nodeFlags: flags });
    const idle = await peakRssMb(lab.director.pid);
    console.log(`director node flags ${label}: idle RSS ${idle.toFixed(0)} MB`);
    rows.push(await measure(lab, label, dir, 'stemcell (raw POST /stemcells)', stemcellPath, '/stemcells'));
    rows.push(await measure(lab, label, dir, 'rootfs (raw POST /rootfs)', rootfsPath, '/rootfs'));
    await lab.cleanup();
    lab = null;
  }
  const table = [
    [
      'director node flags',
      'artifact',
      'size MB',
      'copy MB/s',
      'upload MB/s',
      'upload/copy',
      'task s',
      'end-to-end MB/s',
      'director peak RSS MB',
    ],
    ...rows.map((r) => [
      r.flags,
      r.artifact,
      r.sizeMb.toFixed(0),
      r.copyMbs.toFixed(0),
      r.uploadMbs.toFixed(0),
      (r.uploadMbs / r.copyMbs).toFixed(2),
      r.taskS.toFixed(1),
      r.endToEndMbs.toFixed(0),
      r.rssMb.toFixed(0),
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  console.log('');
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
  console.log('');
  console.log(
    'upload = HTTPS body streamed to the director until its 302 (body on disk); copy = stream copy of',
  );
  console.log(
    'the same file on the same disk; task = digest/manifest/entry checks + CPI create_stemcell (the',
  );
  console.log("test CPI copies the image) or the rootfs check tee'd into the blobstore; RSS = VmHWM so far.");
  console.log(`rerun: REFIT_BENCH_UPLOAD_MB=${sizeMb} npm run bench -- upload`);
} finally {
  await lab?.cleanup();
  await rm(dir, { recursive: true, force: true });
}
