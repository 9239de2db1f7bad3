import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigFileError } from '../errors.ts';
import {
  aliasEnvironment,
  defaultConfigPath,
  emptyConfig,
  findEnvironment,
  loadConfig,
  saveConfig,
  setCredentials,
  unsetCredentials,
} from './config-file.ts';

describe('config file', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'refit-config-'));
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('lives at ~/.refit/config, never the stock CLI file', () => {
    assert.equal(defaultConfigPath('/home/op'), '/home/op/.refit/config');
  });

  it('reads a missing file as empty, and round-trips through YAML with mode 0600', async () => {
    const path = defaultConfigPath(home);
    assert.deepEqual(await loadConfig(path), emptyConfig);
    let config = aliasEnvironment(emptyConfig, {
      alias: 'quick',
      url: 'https://127.0.0.1:25555',
      caCert: 'PEM',
    });
    config = setCredentials(config, 'https://127.0.0.1:25555', { client: 'admin', clientSecret: 's3cret' });
    await saveConfig(path, config);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(home, '.refit'))).mode & 0o777, 0o700);
    assert.match(await readFile(path, 'utf8'), /client_secret: s3cret/);
    assert.deepEqual(await loadConfig(path), {
      environments: [
        {
          url: 'https://127.0.0.1:25555',
          alias: 'quick',
          caCert: 'PEM',
          client: 'admin',
          clientSecret: 's3cret',
        },
      ],
    });
  });

  it('accepts JSON too', async () => {
    const path = join(home, 'json-config');
    await writeFile(path, JSON.stringify({ environments: [{ url: 'https://d:1', alias: 'd' }] }));
    assert.equal(findEnvironment(await loadConfig(path), 'd')?.url, 'https://d:1');
  });

  it('names the bad key of an invalid file', async () => {
    await mkdir(join(home, 'bad'), { recursive: true });
    const path = join(home, 'bad', 'config');
    await writeFile(path, 'environments:\n  - alias: x\n');
    await assert.rejects(loadConfig(path), (error: unknown) => {
      assert.ok(error instanceof ConfigFileError);
      assert.match(error.message, /environments\.0\.url/);
      return true;
    });
    await writeFile(path, 'environments: [\n');
    await assert.rejects(loadConfig(path), /Parsing config file/);
    await writeFile(path, 'environmnets: []\n');
    await assert.rejects(loadConfig(path), /Invalid config file/);
  });

  it('keeps credentials when re-aliasing the same URL, drops them for another URL, and logs out', () => {
    let config = aliasEnvironment(emptyConfig, { alias: 'a', url: 'https://one:1' });
    config = setCredentials(config, 'https://one:1', { client: 'admin', clientSecret: 'x' });
    assert.equal(
      findEnvironment(aliasEnvironment(config, { alias: 'a', url: 'https://one:1/' }), 'a')?.client,
      'admin',
    );
    assert.equal(
      findEnvironment(aliasEnvironment(config, { alias: 'a', url: 'https://two:2' }), 'a')?.client,
      undefined,
    );
    const loggedOut = unsetCredentials(config, 'https://one:1');
    assert.deepEqual(findEnvironment(loggedOut, 'a'), { url: 'https://one:1', alias: 'a' });
    assert.equal(config.environments.length, 1);
  });
});
