import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentFixture, applySpec, exe, type AgentFixture } from '../testing/fixture.ts';
import { sleepSeconds } from './action.ts';
import { apply } from './apply.ts';

describe('get_task and cancel_task', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture({ sleep: sleepSeconds });
    const archive = await f.blob('rta', { 'a/bin/drain': exe('#!/bin/sh\necho 600\n') });
    await f.run(apply, [applySpec({ jobs: ['a'], archive: { blobstore_id: 'rta', sha1: archive.sha1 } })]);
  });
  after(() => f.close());

  it('an async action answers a running task; get_task answers running, then the value', async () => {
    const first = await f.dispatcher.dispatch('list_disk', []);
    assert.ok('value' in first);
    const { agent_task_id: id, state } = first.value as { agent_task_id: string; state: string };
    assert.equal(state, 'running');
    assert.match(id, /^[0-9a-f-]{36}$/);
    let polled = await f.dispatcher.dispatch('get_task', [id]);
    for (
      let i = 0;
      i < 100 && 'value' in polled && (polled.value as { state?: string }).state === 'running';
      i++
    ) {
      await new Promise((r) => setTimeout(r, 10));
      polled = await f.dispatcher.dispatch('get_task', [id]);
    }
    assert.deepEqual(polled, { value: [] });
  });

  it('cancel_task aborts a running task, which then fails', async () => {
    const first = await f.dispatcher.dispatch('drain', ['shutdown']);
    assert.ok('value' in first);
    const { agent_task_id: id } = first.value as { agent_task_id: string };
    // The drain script asked for 600 s: the task is still running.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await f.dispatcher.dispatch('get_task', [id]), {
      value: { agent_task_id: id, state: 'running' },
    });
    assert.deepEqual(await f.dispatcher.dispatch('cancel_task', [id]), { value: 'canceled' });
    const outcome = await f.call('get_task', [id]);
    assert.ok('exception' in outcome);
    assert.match(outcome.exception, new RegExp(`^Action Failed get_task: Task ${id} result: .*cancelled`));
  });

  it('an unknown task id is an exception', async () => {
    const outcome = await f.dispatcher.dispatch('get_task', ['no-such-task']);
    assert.deepEqual(outcome, {
      exception: 'Action Failed get_task: Task with id no-such-task could not be found',
    });
  });
});
