import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadDirectorConfig } from '../config/director-config.ts';

// The director config keys this area reads: `nats` and `agent`.
describe('director config: nats and agent keys', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-nats-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const load = async (text: string) => {
    const path = join(dir, 'director.yml');
    await writeFile(path, text);
    return loadDirectorConfig({ stateDir: join(dir, 'state'), configFile: path }, '/repo');
  };

  it('leaves both out when absent (embedded NATS, BOSH timings)', async () => {
    const config = await load('name: d\n');
    assert.equal(config.nats, undefined);
    assert.equal(config.agent, undefined);
  });

  it('reads an embedded server and an existing NATS', async () => {
    assert.deepEqual((await load('nats: {port: 4300, executable: bin/nats-server}\n')).nats, {
      kind: 'embedded',
      port: 4300,
      executable: join(dir, 'bin/nats-server'),
    });
    const existing = await load(
      'nats: {url: "nats://127.0.0.1:4222", director: {user: d, password: p1}, agents: {user: a, password: p2}}\n',
    );
    assert.deepEqual(existing.nats, {
      kind: 'external',
      url: 'nats://127.0.0.1:4222',
      director: { user: 'd', password: 'p1' },
      agents: { user: 'a', password: 'p2' },
      hm: null,
    });
  });

  it('refuses mixed or incomplete nats keys, naming them', async () => {
    await assert.rejects(
      load('nats: {director: {user: d, password: p}}\n'),
      /nats\.director: only with nats\.url/,
    );
    await assert.rejects(
      load('nats: {url: "nats://127.0.0.1:1", executable: x}\n'),
      /nats\.executable: not with nats\.url/,
    );
    await assert.rejects(load('nats: {url: "nats://127.0.0.1:1"}\n'), /director and agents/);
    await assert.rejects(load('nats: {color: red}\n'), /nats\.color: unknown key/);
  });

  it('reads agent timings in seconds, defaults for the rest', async () => {
    assert.deepEqual(
      (await load('agent: {reply_timeout_seconds: 5, task_poll_interval_seconds: 0.25}\n')).agent,
      {
        replyTimeoutMs: 5000,
        pollIntervalMs: 250,
        waitTimeoutMs: 600_000,
      },
    );
    await assert.rejects(load('agent: {wait_timeout_seconds: 0}\n'), /agent\.wait_timeout_seconds/);
  });
});
