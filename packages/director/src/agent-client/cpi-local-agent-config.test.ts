import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { cpiLocalConfigWithAgentAccess, mbusUrl } from './cpi-local-agent-config.ts';

describe('cpi-local agent config', () => {
  it('puts the credentials into the NATS URL, escaped', () => {
    assert.equal(
      mbusUrl('nats://127.0.0.1:4222', 'agent', 'p@ss/w'),
      'nats://agent:p%40ss%2Fw@127.0.0.1:4222',
    );
  });

  it('replaces the placeholder access and keeps the rest of the base', () => {
    const base = 'state_dir: "/s/cpi-local/state"\nagent:\n  mbus: nats://127.0.0.1:4222\n  ntp: [a]\n';
    const blobstore = {
      provider: 'dav',
      options: {
        endpoint: 'https://127.0.0.1:1/blobs',
        tls: { cert: { ca: '-----BEGIN X-----\nabc\n-----END X-----\n' } },
      },
    };
    const text = cpiLocalConfigWithAgentAccess(base, { mbus: 'nats://agent:pw@127.0.0.1:4223', blobstore });
    assert.deepEqual(parse(text), {
      state_dir: '/s/cpi-local/state',
      agent: { mbus: 'nats://agent:pw@127.0.0.1:4223', ntp: ['a'], blobstore },
    });
    assert.match(text, /^# Written by refit-director at every start/);
  });
});
