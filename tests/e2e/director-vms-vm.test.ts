// A real VM against the real director with its defaults: refit-cpi-local runs with the config the
// director generated, so the VM's agent connects to the director's own nats-server with the
// agents' user and fetches its job from the director's /blobs over HTTPS (the director's CA);
// the director's NatsAgentClient drives it (wait_until_ready, get_state, apply, start).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { StemcellManifest } from '@refit/protocol';
import { NatsAgentClient } from '../../packages/director/src/agent-client/nats-agent-client.ts';
import {
  startDirector,
  type DirectorProcess,
} from '../../packages/director/src/api/director-process.test-support.ts';
import { LocalDirBlobstore } from '../../packages/director/src/blobstore/local-dir-blobstore.ts';
import { createDirectorLog } from '../../packages/director/src/config/director-log.ts';
import { NatsCredentialsFile } from '../../packages/director/src/nats/nats-credentials.ts';
import { callCpi, type CpiCommand } from './vm-harness/cpi-process.ts';
import { tgzOf, tickerFiles } from './vm-harness/ticker-job.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const stemcellBin = join(repo, 'packages/stemcell/bin/refit-stemcell');
const cpiBin = join(repo, 'packages/cpi-local/bin/refit-cpi-local');
const log = createDirectorLog({ file: null, level: 'error', stderr: false });

describe(
  'a VM served by the director (NATS and blobs)',
  { skip: process.getuid?.() !== 0 ? 'needs root' : false },
  () => {
    const tag = randomUUID().slice(0, 8);
    const agentId = `agent-${tag}`;
    let work = '';
    let stateDir = '';
    let director: DirectorProcess;
    let agents: NatsAgentClient;
    let cpi: CpiCommand;
    let stemcellCid = '';
    let vmCid = '';

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'refit-director-vm-'));
      stateDir = join(work, 'director');
      await run(stemcellBin, [
        'build',
        '--name',
        'refit-e2e',
        '--version',
        '1',
        '--os',
        'refit-minimal',
        '--out',
        join(work, 'v1'),
        '--base',
        'minimal',
      ]);
      await mkdir(join(work, 'v1-unpacked'));
      await run('tar', ['-xzf', join(work, 'v1/stemcell.tgz'), '-C', join(work, 'v1-unpacked')]);
      director = await startDirector({ stateDir });
      cpi = { command: cpiBin, args: ['--config', join(stateDir, 'cpi-local', 'cpi.yml')] };
      const nats = NatsCredentialsFile.parse(
        JSON.parse(await readFile(join(stateDir, 'nats', 'credentials.json'), 'utf8')),
      );
      agents = await NatsAgentClient.connect({
        url: `nats://127.0.0.1:${nats.port ?? 0}`,
        user: nats.director.user,
        password: nats.director.password,
        log,
        pollIntervalMs: 200,
      });
    });

    after(async () => {
      if (vmCid) await callCpi(cpi, 'delete_vm', [vmCid]).catch(() => undefined);
      if (stemcellCid) await callCpi(cpi, 'delete_stemcell', [stemcellCid]).catch(() => undefined);
      await agents?.close();
      await director?.stop();
      await rm(work, { recursive: true, force: true });
    });

    it('boots a VM whose agent answers the director over its own NATS', async () => {
      const manifest = StemcellManifest.parse(
        parse(await readFile(join(work, 'v1-unpacked/stemcell.MF'), 'utf8')),
      );
      stemcellCid = (await callCpi(cpi, 'create_stemcell', [
        join(work, 'v1-unpacked/image'),
        manifest.cloud_properties,
      ])) as string;
      const networks = {
        default: {
          type: 'manual',
          ip: '127.0.1.61',
          netmask: '255.255.255.0',
          cloud_properties: {},
          default: ['dns', 'gateway'],
        },
      };
      const created = (await callCpi(cpi, 'create_vm', [agentId, stemcellCid, {}, networks, [], {}])) as [
        string,
        unknown,
      ];
      vmCid = created[0];
      await agents.waitUntilReady(agentId, vmCid, { timeoutMs: 60_000 });
      const state = await agents.call(agentId, 'get_state', []);
      assert.equal(state.agent_id, agentId);
      assert.equal(state.stemcell?.version, '1');
    });

    it("applies a job whose blob the agent fetches from the director's /blobs", async () => {
      const archive = await tgzOf(tickerFiles(tag));
      const blob = await new LocalDirBlobstore(join(stateDir, 'blobstore')).put(Readable.from([archive]));
      const templates = { blobstore_id: blob.id, sha1: `sha256:${blob.sha256}` };
      const spec = {
        deployment: 'e2e',
        name: 'ticker',
        index: 0,
        id: randomUUID(),
        job: { name: 'ticker', templates: [{ name: 'ticker', version: 'v1', ...templates }] },
        packages: {},
        networks: {
          default: { type: 'manual', ip: '127.0.1.61', netmask: '255.255.255.0', cloud_properties: {} },
        },
        configuration_hash: 'e2e-1',
        rendered_templates_archive: templates,
      };
      const signal = AbortSignal.timeout(60_000);
      assert.equal(await agents.call(agentId, 'apply', [spec], { signal }), 'applied');
      assert.equal(await agents.call(agentId, 'start', [], { signal }), 'started');
      for (;;) {
        const state = await agents.call(agentId, 'get_state', [], { signal });
        if (state.job_state === 'running') break;
        signal.throwIfAborted();
        await sleep(200);
      }
      // A blob the director does not have: the agent's fetch fails and says so.
      const missing = { blobstore_id: 'f'.repeat(64), sha1: `sha256:${'f'.repeat(64)}` };
      await assert.rejects(
        agents.call(
          agentId,
          'apply',
          [
            {
              ...spec,
              configuration_hash: 'e2e-2',
              rendered_templates_archive: missing,
              job: { ...spec.job, templates: [{ name: 'ticker', version: 'v2', ...missing }] },
            },
          ],
          { signal },
        ),
        /404/,
      );
    });
  },
);
