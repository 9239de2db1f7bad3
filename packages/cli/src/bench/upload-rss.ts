/* eslint-disable no-console -- a benchmark prints its table; it is not part of the CLI */
// Benchmark: the refit CLI streams uploads. Uploads a 1 GiB stemcell tarball (plain tar: the
// CLI reads stemcell.MF from the first entry) to a sink HTTPS server in another process and
// prints the CLI's peak RSS next to its RSS for `refit help`, and the throughput next to a plain
// copy of the same file. Run: npx node packages/cli/src/bench/upload-rss.ts [MiB]
import { execFile, spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import tarStream from 'tar-stream';
import { makeThrowawayCert } from '../testing/local-https-server.ts';

const here = dirname(fileURLToPath(import.meta.url));
const refit = resolve(here, '../../bin/refit');
const mib = Number(process.argv[2] ?? 1024);
const work = await mkdtemp(join(tmpdir(), 'refit-upload-bench-'));

try {
  const tarball = join(work, 'stemcell.tar');
  const pack = tarStream.pack();
  pack.entry({ name: 'stemcell.MF' }, 'name: bench\nversion: "1"\nsha1: x\n');
  const image = pack.entry({ name: 'image', size: mib * 1024 * 1024 });
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const writing = pipeline(pack, createWriteStream(tarball));
  for (let i = 0; i < mib; i += 1) {
    if (!image.write(chunk)) await new Promise<void>((ok) => image.once('drain', () => ok()));
  }
  image.end(() => pack.finalize());
  await writing;

  const { key, cert } = await makeThrowawayCert();
  await writeFile(join(work, 'key.pem'), key);
  await writeFile(join(work, 'cert.pem'), cert);
  // The sink: a director that accepts and discards the upload and answers a finished task.
  const sinkSource = `
    import { createServer } from 'node:https';
    import { readFileSync } from 'node:fs';
    const s = createServer({ key: readFileSync('${join(work, 'key.pem')}'), cert: readFileSync('${join(work, 'cert.pem')}') }, (req, res) => {
      req.resume();
      req.on('end', () => {
        const path = req.url.split('?')[0];
        if (path === '/stemcell_uploads') return res.end('{"needed":true}');
        if (path === '/stemcells') return res.writeHead(302, { location: '/tasks/1' }).end();
        if (path === '/tasks/1') return res.end('{"id":1,"state":"done"}');
        if (path === '/tasks/1/output') return res.writeHead(416).end();
        res.end('{}');
      });
    });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  await writeFile(join(work, 'sink.mjs'), sinkSource);
  const sink = spawn(process.execPath, [join(work, 'sink.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((ok) =>
    sink.stdout.once('data', (d: Buffer) => ok(d.toString().trim())),
  );
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: work,
    BOSH_ENVIRONMENT: `https://127.0.0.1:${port}`,
    BOSH_CA_CERT: join(work, 'cert.pem'),
    BOSH_CLIENT: 'admin',
    BOSH_CLIENT_SECRET: 'x',
  };
  const timed = async (argv: string[]): Promise<{ rssMiB: number; seconds: number }> => {
    const { stderr } = await promisify(execFile)('/usr/bin/time', ['-f', '%M %e', refit, ...argv], { env });
    const [kb, seconds] = stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
    return { rssMiB: (kb ?? 0) / 1024, seconds: seconds ?? 0 };
  };
  const baseline = await timed(['help']);
  const upload = await timed(['upload-stemcell', tarball]);
  const copyStart = performance.now();
  await pipeline(createReadStream(tarball), createWriteStream(join(work, 'copy.tar')));
  const copySeconds = (performance.now() - copyStart) / 1000;
  sink.kill();

  const rows = [
    ['measure', 'value'],
    ['file size (MiB)', String(mib)],
    ['refit help: peak RSS (MiB)', baseline.rssMiB.toFixed(0)],
    ['refit upload-stemcell: peak RSS (MiB)', upload.rssMiB.toFixed(0)],
    ['upload wall time (s)', upload.seconds.toFixed(2)],
    ['upload throughput (MiB/s)', (mib / upload.seconds).toFixed(0)],
    ['plain copy throughput (MiB/s)', (mib / copySeconds).toFixed(0)],
  ];
  for (const [a, b] of rows) console.log(`${a!.padEnd(40)}${b}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
