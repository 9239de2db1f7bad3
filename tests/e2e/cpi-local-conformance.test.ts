// The shared CPI conformance suite against the real refit-cpi-local: real namespaces, overlay
// roots and mounts, with a tiny busybox stemcell built here (no agent needed).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { buildBusyboxStemcellImage } from '@refit/cpi-local/testing/busybox-stemcell.ts';
import { removeScratch } from '@refit/cpi-local/testing/cleanup.ts';
import { vmHostTraces } from '@refit/cpi-local/testing/host-traces.ts';
import { runCpiConformance } from '@refit/testkit/cpi-conformance/index.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const scratch = await mkdtemp(join(tmpdir(), 'cpi-local-conformance-'));
const stateDir = join(scratch, 'state');
const configPath = join(scratch, 'cpi.yml');
const imagePath = join(scratch, 'image.tgz');

before(async () => {
  if (process.getuid?.() !== 0) return;
  await writeFile(
    configPath,
    [
      `state_dir: ${stateDir}`,
      'agent:',
      '  mbus: nats://agent:secret@127.0.0.1:4222',
      '  blobstore: { provider: dav, options: { endpoint: "https://127.0.0.1:25250" } }',
    ].join('\n'),
  );
  await buildBusyboxStemcellImage(scratch).then((built) => {
    if (built !== imagePath) throw new Error(`image at ${built}`);
  });
});

after(() => removeScratch(scratch));

runCpiConformance({
  name: 'refit-cpi-local passes the CPI conformance suite',
  cpiCommand: join(repo, 'packages/cpi-local/bin/refit-cpi-local'),
  configPath,
  stemcellImagePath: imagePath,
  vmTraces: (vm) => vmHostTraces(stateDir, vm),
  bootCount: async (vm) =>
    Number(
      (await readFile(join(stateDir, 'vms', vm, 'ephemeral', 'boot-count'), 'utf8').catch(() => '0')).trim(),
    ),
  timeoutMs: 60_000,
  skip: process.getuid?.() !== 0 ? 'refit-cpi-local needs root (namespaces, mounts)' : false,
});
