import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentFixture, applySpec, exe, type AgentFixture } from '../testing/fixture.ts';
import { apply } from './apply.ts';

describe('cancel_task', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture({ scriptTimeoutMs: 60_000 });
    const archive = await f.blob('rta', { 'a/bin/pre-start': exe('#!/bin/sh\nexec sleep 60\n') });
    await f.run(apply, [applySpec({ jobs: ['a'], archive: { blobstore_id: 'rta', sha1: archive.sha1 } })]);
  });
  after(() => f.close());

  it('kills a running script and fails its task', async () => {
    const first = await f.dispatcher.dispatch('run_script', ['pre-start', {}]);
    assert.ok('value' in first);
    const { agent_task_id: id } = first.value as { agent_task_id: string };
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await f.dispatcher.dispatch('cancel_task', [id]), { value: 'canceled' });
    const outcome = await f.call('get_task', [id], 15_000);
    assert.ok('exception' in outcome);
    assert.match(outcome.exception, /Failed Jobs: a \(timed out or cancelled\)/);
  });

  it('an unknown task id is an exception', async () => {
    assert.deepEqual(await f.dispatcher.dispatch('cancel_task', ['nope']), {
      exception: 'Action Failed cancel_task: Task with id nope could not be found',
    });
  });
});
