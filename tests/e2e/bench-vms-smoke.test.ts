// The benchmarks in bench/ keep working: each runs at its smallest size (seconds, not the real
// measurement) and must exit 0 and print its table and rerun line. A benchmark that no longer
// runs is a defect this catches; the figures themselves are never asserted (rule 5: performance
// is measured in benchmarks, not in tests). bench/reload.ts is left out: it takes minutes even
// at one instance, and reload-deploy-vms covers the same path.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repo, skipUnlessRoot } from './support/vm-lab.ts';

function bench(
  name: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repo, 'bench', `${name}.ts`), ...args],
      { env: { ...process.env, ...env }, timeout: 240_000, maxBuffer: 1 << 24 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          out: stdout + stderr,
        }),
    );
  });
}

describe('benchmarks at their smallest size', () => {
  it('bench/deploy.ts prints its table for 4 instances', async () => {
    const run = await bench('deploy', ['--instances', '4', '--max-in-flight', '2']);
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /\| create \|/);
    assert.match(run.out, /rerun: npx node bench\/deploy\.ts/);
  });

  it('bench/upload.ts uploads 8 MB stemcell and rootfs tarballs', async () => {
    const run = await bench('upload', [], { REFIT_BENCH_UPLOAD_MB: '8' });
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /rerun: REFIT_BENCH_UPLOAD_MB=8/);
  });

  it('bench/hm.ts follows 500 impersonated agents', async () => {
    const run = await bench('hm', ['--steps', '500', '--budget-s', '20', '--window-s', '2']);
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /\|\s+500 \|/);
  });

  it('bench/vms.ts holds 2 VMs', { skip: skipUnlessRoot }, async () => {
    const run = await bench('vms', ['--runs', '1', '--step', '2', '--max-vms', '2', '--budget-s', '30']);
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /cleanup: \d+ VMs created in all, 0 left/);
  });
});
