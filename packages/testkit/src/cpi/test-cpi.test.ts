import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { createTestCpi, type TestCpi } from './test-cpi-fixture.ts';

/** One CPI call as the director makes it: a process, the request on stdin, the response out. */
async function call(cpi: TestCpi, method: string, args: unknown[]): Promise<{ error: unknown }> {
  const child = spawn(cpi.command, [...cpi.args], { stdio: ['pipe', 'pipe', 'ignore'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    child.stdin.end(
      JSON.stringify({ method, arguments: args, context: { director_uuid: 'u', request_id: 'r' } }),
    );
    const out = await text(child.stdout);
    return JSON.parse(out) as { error: unknown };
  } finally {
    clearTimeout(killer);
  }
}

describe('test CPI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-test-cpi-test-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a fault for the first N calls hits exactly N of many concurrent calls', async () => {
    const cpi = await createTestCpi(join(dir, 'concurrent'), {
      faults: { has_vm: { fault: 'cloud_error', times: 3 } },
    });
    const answers = await Promise.all(Array.from({ length: 8 }, () => call(cpi, 'has_vm', ['vm-x'])));
    assert.equal(answers.filter((a) => a.error !== null).length, 3);
    assert.equal((await cpi.calls()).length, 8);
    const later = await call(cpi, 'has_vm', ['vm-x']);
    assert.equal(later.error, null);
  });

  it('calls() counts only complete records', async () => {
    const cpi = await createTestCpi(join(dir, 'partial'));
    await call(cpi, 'info', []);
    // What a reader can see while a CPI process is still appending its record.
    await appendFile(join(cpi.stateDir, 'calls.jsonl'), '{"method":"has_vm","argu');
    assert.deepEqual(
      (await cpi.calls()).map((c) => c.method),
      ['info'],
    );
  });
});
