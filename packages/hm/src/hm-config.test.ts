import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HmConfigError, loadHmConfig } from './hm-config.ts';

describe('loadHmConfig', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-hm-config-'));
    await mkdir(join(dir, 'state', 'nats'), { recursive: true });
    await writeFile(
      join(dir, 'state', 'credentials.json'),
      JSON.stringify({ client: 'admin', client_secret: 's3cret' }),
    );
    await writeFile(
      join(dir, 'state', 'nats', 'credentials.json'),
      JSON.stringify({
        port: 4333,
        director: { user: 'director', password: 'd' },
        hm: { user: 'hm', password: 'h' },
        agents: { user: 'agent', password: 'a' },
      }),
    );
    await writeFile(join(dir, 'state', 'ca.pem'), 'CA PEM');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const sources = { configFile: null, directorStateDir: null, directorUrl: null, resurrector: null };

  it("reads the director's embedded defaults and applies BOSH's intervals", async () => {
    const config = await loadHmConfig({ ...sources, directorStateDir: join(dir, 'state') });
    assert.deepEqual(config.director, {
      url: 'https://127.0.0.1:25555',
      caPem: 'CA PEM',
      user: 'admin',
      password: 's3cret',
      requestTimeoutMs: 10_000,
    });
    assert.deepEqual(config.nats, { url: 'nats://127.0.0.1:4333', user: 'hm', password: 'h' });
    assert.equal(config.intervals.agentTimeoutMs, 60_000);
    assert.equal(config.intervals.analyzeMs, 60_000);
    assert.equal(config.intervals.gracePeriodMs, 30_000);
    assert.equal(config.intervals.rogueAgentAlertMs, 120_000);
    assert.equal(config.resurrector.enabled, false);
    assert.equal(config.resurrector.minimumDownJobs, 5);
    assert.equal(config.resurrector.percentThreshold, 0.2);
    assert.equal(config.webhook, null);
  });

  it('lets the file and the flags override the defaults', async () => {
    const file = join(dir, 'hm.yml');
    await writeFile(
      file,
      'intervals: {agent_timeout: 0.5}\nresurrector: {enabled: false, minimum_down_jobs: 2}\nwebhook: {url: "http://127.0.0.1:9/x"}\n',
    );
    const config = await loadHmConfig({
      configFile: file,
      directorStateDir: join(dir, 'state'),
      directorUrl: 'https://127.0.0.1:1234',
      resurrector: true,
    });
    assert.equal(config.intervals.agentTimeoutMs, 500);
    assert.equal(config.director.url, 'https://127.0.0.1:1234');
    assert.equal(config.resurrector.enabled, true);
    assert.equal(config.resurrector.minimumDownJobs, 2);
    assert.deepEqual(config.webhook, { url: 'http://127.0.0.1:9/x', timeoutMs: 5000, queueSize: 1000 });
  });

  it('refuses unknown keys and missing settings, naming them', async () => {
    const file = join(dir, 'bad.yml');
    await writeFile(file, 'intervals: {agent_timout: 5}\n');
    await assert.rejects(
      loadHmConfig({ ...sources, configFile: file }),
      (error: unknown) => error instanceof HmConfigError && /bad\.yml: intervals/.test(error.message),
    );
    const empty = join(dir, 'empty.yml');
    await writeFile(empty, '');
    await assert.rejects(loadHmConfig({ ...sources, configFile: empty }), /director\.url is not set/);
  });
});
