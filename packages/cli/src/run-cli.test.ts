import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { privateHome, runCliCaptured } from './testing/run-cli-in-process.ts';

describe('runCli', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ home, cleanup } = await privateHome());
  });
  after(() => cleanup());

  it('refuses an unknown command with exit code 1', async () => {
    const run = await runCliCaptured(['deploy-everything'], { home });
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      "Unknown command `deploy-everything'. Run 'refit help' to list the commands.\n\nExit code 1\n",
    );
  });

  it('refuses bad flags and bad arguments with exit code 1', async () => {
    const unknown = await runCliCaptured(['stemcells', '--bogus'], { home });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^unknown flag `bogus'/);
    const extra = await runCliCaptured(['stemcells', 'extra'], { home });
    assert.equal(extra.code, 1);
    assert.match(extra.stderr, /stemcells: this command takes no arguments/);
    const missing = await runCliCaptured(['upload-stemcell'], { home });
    assert.match(missing.stderr, /expected one argument: URL \(usage: refit upload-stemcell URL\)/);
    const recent = await runCliCaptured(['tasks', '--recent=0'], { home });
    assert.match(recent.stderr, /tasks: --recent: /);
  });

  it('needs an environment for director commands, from -e or BOSH_ENVIRONMENT', async () => {
    const run = await runCliCaptured(['stemcells'], { home });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Expected non-empty Director URL/);
    const fromEnv = await runCliCaptured(['log-out'], {
      home,
      env: { BOSH_ENVIRONMENT: 'https://127.0.0.1:9' },
    });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
  });

  it('prints help for everything or one command, and the version', async () => {
    const all = await runCliCaptured(['help'], { home });
    assert.equal(all.code, 0);
    assert.match(all.stdout, /\n {2}upload-rootfs +Upload a generic stemcell/);
    const one = await runCliCaptured(['tasks', '--help'], { home });
    assert.match(one.stdout, /refit \[OPTIONS\] tasks\n[\s\S]*-r, --recent/);
    const version = await runCliCaptured(['--version'], { home });
    assert.match(version.stdout, /version 0\.1\.0/);
  });
});
