import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { agentPaths, type AgentPaths } from '../paths.ts';
import { migrateAgentState } from './state-migration.ts';

const gone = (path: string) =>
  access(path).then(
    () => false,
    () => true,
  );

describe("moving the agent's state to the ephemeral disk", () => {
  let dir: string;
  let paths: AgentPaths;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-migrate-'));
    paths = agentPaths(dir);
    await mkdir(paths.boshDir, { recursive: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('moves spec and disk records from /var/vcap/bosh once; a file already moved wins', async () => {
    await writeFile(join(paths.boshDir, 'spec.json'), '{"old":1}');
    await writeFile(join(paths.boshDir, 'persistent_disks.json'), '{"d":1}');
    await mkdir(paths.stateDir, { recursive: true });
    await writeFile(join(paths.stateDir, 'persistent_disks.json'), '{"d":2}');
    assert.deepEqual(await migrateAgentState(paths), ['spec.json']);
    assert.equal(await readFile(paths.specFile, 'utf8'), '{"old":1}');
    assert.equal(await readFile(paths.persistentDisksFile, 'utf8'), '{"d":2}');
    assert.ok(await gone(join(paths.boshDir, 'spec.json')));
    assert.ok(await gone(join(paths.boshDir, 'persistent_disks.json')));
    assert.deepEqual(await migrateAgentState(paths), [], 'nothing left to move');
    assert.equal(paths.specFile, join(dir, 'var/vcap/data/bosh/spec.json'));
  });
});
