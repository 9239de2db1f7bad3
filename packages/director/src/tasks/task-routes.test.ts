import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RouteReply } from '../api/route.ts';
import { outputReply } from './task-routes.ts';

async function collect(
  reply: RouteReply,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  if (reply.kind === 'empty') return { status: reply.status, headers: {}, body: '' };
  assert.equal(reply.kind, 'stream');
  const chunks: Buffer[] = [];
  for await (const chunk of reply.body) chunks.push(chunk as Buffer);
  return { status: reply.status, headers: { ...reply.headers }, body: Buffer.concat(chunks).toString() };
}

describe('task output replies', () => {
  let dir = '';
  let file = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-output-'));
    file = join(dir, 'event');
    await writeFile(file, '0123456789');
    await writeFile(join(dir, 'empty'), '');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('answers 204 when there is no output', async () => {
    assert.deepEqual(await outputReply(join(dir, 'missing'), undefined), { kind: 'empty', status: 204 });
    assert.deepEqual(await outputReply(join(dir, 'empty'), undefined), { kind: 'empty', status: 204 });
  });

  it('streams the whole file without Range', async () => {
    const reply = await collect(await outputReply(file, undefined));
    assert.equal(reply.status, 200);
    assert.equal(reply.body, '0123456789');
    assert.equal(reply.headers['Content-Length'], '10');
  });

  it('answers Range bytes=N- with 206 and Content-Range', async () => {
    const reply = await collect(await outputReply(file, 'bytes=4-'));
    assert.deepEqual(reply, {
      status: 206,
      headers: { 'Content-Type': 'text/plain', 'Content-Range': 'bytes 4-9/10', 'Content-Length': '6' },
      body: '456789',
    });
    const bounded = await collect(await outputReply(file, 'bytes=2-3'));
    assert.equal(bounded.body, '23');
    assert.equal(bounded.headers['Content-Range'], 'bytes 2-3/10');
  });

  it('answers 416 with bytes */size when nothing is new', async () => {
    for (const range of ['bytes=10-', 'bytes=99-']) {
      const reply = await collect(await outputReply(file, range));
      assert.equal(reply.status, 416);
      assert.equal(reply.headers['Content-Range'], 'bytes */10');
      assert.equal(reply.body, '');
    }
    const empty = await collect(await outputReply(join(dir, 'empty'), 'bytes=0-'));
    assert.equal(empty.status, 416);
    assert.equal(empty.headers['Content-Range'], 'bytes */0');
  });
});
