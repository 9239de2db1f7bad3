import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envWithAgentMbus } from './agent-credentials-cloud.ts';
import { REDACTED, redactSecrets } from './redact-secrets.ts';

describe('redactSecrets', () => {
  it('redacts secret-looking keys at any depth', () => {
    const out = redactSecrets([{ a: { password: 'p1', nested: [{ private_key: 'k' }] }, plain: 'x' }]);
    assert.deepEqual(out, [{ a: { password: REDACTED, nested: [{ private_key: REDACTED }] }, plain: 'x' }]);
  });

  it("redacts the per-agent mbus URL's password in create_vm's env, keeping user and host", () => {
    const password = 'a'.repeat(48);
    const env = envWithAgentMbus(
      { bosh: { group: 'd-web', mbus: { cert: { ca: 'CA' } } } },
      `nats://agent-1234:${password}@127.0.0.1:4222`,
    );
    const args = ['1234', 'stemcell-cid', {}, {}, [], env];
    const text = JSON.stringify(redactSecrets(args));
    assert.ok(!text.includes(password), text);
    assert.deepEqual((redactSecrets(env) as { bosh: unknown }).bosh, {
      group: 'd-web',
      mbus: { cert: { ca: 'CA' }, urls: [`nats://agent-1234:${REDACTED}@127.0.0.1:4222`] },
    });
  });

  it('redacts passwords of URLs inside longer strings and leaves URLs without one alone', () => {
    assert.equal(
      redactSecrets('connect to nats://agent:s3cret@127.0.0.1:4222 and https://host/x@y'),
      `connect to nats://agent:${REDACTED}@127.0.0.1:4222 and https://host/x@y`,
    );
    assert.equal(redactSecrets('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222');
  });
});
