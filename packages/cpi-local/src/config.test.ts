import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from './config.ts';

describe('config', () => {
  it('reads YAML with defaults applied', async () => {
    const config = await parseConfig(
      'state_dir: /var/refit/cpi\nagent:\n  mbus: nats://a:b@127.0.0.1:4222\ndelays: { create_vm: 20 }\n',
      'cpi.yml',
    );
    assert.equal(config.stateDir, '/var/refit/cpi');
    assert.equal(config.agent.mbus, 'nats://a:b@127.0.0.1:4222');
    assert.deepEqual(config.delays, { create_vm: 20 });
    assert.equal(config.initPath, '/sbin/refit-init');
    assert.equal(config.bootTimeoutMs, 30_000);
    assert.ok(Object.isFrozen(config));
  });

  it('reads JSON', async () => {
    const config = await parseConfig(
      JSON.stringify({
        state_dir: '/s',
        agent: { mbus: 'nats://127.0.0.1:4222', blobstore: { provider: 'dav' } },
      }),
      'cpi.json',
    );
    assert.deepEqual(config.agent.blobstore, { provider: 'dav', options: {} });
    assert.deepEqual(config.delays, {});
  });

  it('refuses a relative state dir, a non-loopback mbus and negative delays, naming the file', async () => {
    for (const text of [
      'state_dir: rel\nagent: { mbus: "nats://127.0.0.1:4222" }',
      'state_dir: /s\nagent: { mbus: "nats://10.0.0.1:4222" }',
      'state_dir: /s\nagent: { mbus: "nats://127.0.0.1:4222" }\ndelays: { create_vm: -1 }',
      ': : not yaml',
      'state_dir: /a,b\nagent: { mbus: "nats://127.0.0.1:4222" }',
    ]) {
      await assert.rejects(
        parseConfig(text, 'bad.yml'),
        (e: unknown) => e instanceof ConfigError && e.message.startsWith('bad.yml'),
      );
    }
  });
});
