import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { runCliCaptured } from '../testing/run-cli-in-process.ts';

describe('refit alias-env, log-in, log-out, env', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
  });
  after(() => env.close());

  const configPath = () => join(env.home, '.refit', 'config');

  it('alias-env stores URL and CA in ~/.refit/config and shows the director', async () => {
    const run = await env.run(['--tty', 'alias-env', 'quick'], { auth: false });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Name {6}test-director {2}\nUUID {6}uuid-1 {2}\n/);
    assert.match(run.stdout, /User {6}\(not logged in\) {2}\n/);
    const config = await readFile(configPath(), 'utf8');
    assert.match(config, new RegExp(`url: ${env.server.url}\\n\\s+alias: quick`));
    assert.match(config, /BEGIN CERTIFICATE/);
    assert.equal((await stat(configPath())).mode & 0o777, 0o600);
  });

  it('log-in refuses bad credentials and stores nothing', async () => {
    const run = await runCliCaptured(
      ['--tty', '-e', 'quick', 'log-in', '--client', 'admin', '--client-secret', 'nope'],
      {
        home: env.home,
      },
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Failed to login to '.*'\nInvalid credentials\n/);
    assert.doesNotMatch(await readFile(configPath(), 'utf8'), /client/);
  });

  it('log-in asks for missing credentials, checks them, stores them; env then shows the user', async () => {
    const run = await runCliCaptured(['--tty', '-e', 'quick', 'log-in'], {
      home: env.home,
      stdin: 'admin\nsecret\n',
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      `Using environment '${env.server.url}'\nUsername: Password: \nLogged in to '${env.server.url}'\nSucceeded\n`,
    );
    assert.match(await readFile(configPath(), 'utf8'), /client: admin\n\s+client_secret: secret/);
    const shown = await runCliCaptured(['--tty', '-e', 'quick', 'env'], { home: env.home });
    assert.match(shown.stdout, /as client 'admin'/);
    assert.match(
      shown.stdout,
      /Features {2}local_dns: enabled {2}\n {10}snapshots: disabled {2}\nUser {6}admin {2}\n/,
    );
  });

  it('environments lists the aliases; unalias-env forgets one', async () => {
    const listed = await runCliCaptured(['--tty', 'environments'], { home: env.home });
    assert.match(
      listed.stdout,
      new RegExp(`^URL +Alias {2}\\n${env.server.url} +quick {2}\\n\\n1 environments\\n`),
    );
    const other = await runCliCaptured(
      ['alias-env', 'other', '-e', env.server.url, '--ca-cert', env.server.caCert],
      {
        home: env.home,
      },
    );
    assert.equal(other.code, 0, other.stderr);
    assert.equal((await runCliCaptured(['unalias-env', 'other'], { home: env.home })).code, 0);
    assert.doesNotMatch(await readFile(configPath(), 'utf8'), /alias: other/);
    const unknown = await runCliCaptured(['unalias-env', 'other', '--no-color'], { home: env.home });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /alias 'other' does not exist/);
  });

  it('log-out forgets the credentials', async () => {
    const run = await runCliCaptured(['--tty', '-e', 'quick', 'log-out'], { home: env.home });
    assert.equal(run.code, 0);
    assert.doesNotMatch(await readFile(configPath(), 'utf8'), /client/);
    const shown = await runCliCaptured(['--tty', '-e', 'quick', 'env'], { home: env.home });
    assert.match(shown.stdout, /as anonymous user[\s\S]*User {6}\(not logged in\)/);
  });
});
