// refit-director running the testkit's test CPI (no VMs: a CPI and agents that answer at once),
// and a stemcell tarball the test CPI accepts; for end-to-end tests of the API and the CLI.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDirector, type DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { makeTarball } from '../../../packages/cli/src/testing/make-tarball.ts';
import { refitCli, type RefitCli } from './refit-cli.ts';
import { repo } from './vm-lab.ts';

export interface TestCpiDirector {
  readonly director: DirectorProcess;
  /** The refit CLI bound to it (a fresh HOME under `work` for each run). */
  readonly cli: RefitCli;
}

/** Starts the director in `<work>/director` with `packages/testkit/bin/test-cpi` as its CPI. */
export async function startTestCpiDirector(work: string, cliTimeoutMs = 90_000): Promise<TestCpiDirector> {
  const cpiConfig = join(work, 'test-cpi.json');
  await writeFile(cpiConfig, JSON.stringify({ state_dir: join(work, 'cpi-state') }));
  const directorConfig = join(work, 'director.yml');
  await writeFile(
    directorConfig,
    `cpi:\n  name: test-cpi\n  executable: ${join(repo, 'packages/testkit/bin/test-cpi')}\n  args: ['--config', '${cpiConfig}']\n`,
  );
  const director = await startDirector({ stateDir: join(work, 'director'), configFile: directorConfig });
  const cli = refitCli(
    () => director,
    () => work,
    cliTimeoutMs,
  );
  return { director, cli };
}

/** `bosh-refit-test-stemcell/1.23` on ubuntu-jammy, a tarball the test CPI accepts, at `path`. */
export async function writeTestStemcell(path: string): Promise<void> {
  const image = Buffer.from('not really a disk image');
  await makeTarball(path, [
    {
      name: 'stemcell.MF',
      content:
        'name: bosh-refit-test-stemcell\nversion: "1.23"\noperating_system: ubuntu-jammy\n' +
        `sha1: ${createHash('sha1').update(image).digest('hex')}\napi_version: 3\n` +
        'stemcell_formats: [general-tar]\ncloud_properties: {}\n',
    },
    { name: 'image', content: image },
  ]);
}
