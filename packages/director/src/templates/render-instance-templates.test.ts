// renderInstanceTemplates: every job rendered with Ruby's ERB into one deterministic archive
// in the blobstore, and BOSH's nested error when jobs fail (nothing stored then).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTar } from '@refit/archive';
import { JobManifest } from '@refit/protocol';
import { buildJobTgz } from '@refit/testkit/release/build-release.ts';
import { Readable } from 'node:stream';
import { LocalDirBlobstore } from '../blobstore/local-dir-blobstore.ts';
import { readJobTemplates } from './read-job-templates.ts';
import type { TemplateInstanceSpec } from './render-job-templates.ts';
import { renderInstanceTemplates } from './render-instance-templates.ts';
import { InstanceGroupTemplatesRenderFailed } from './template-errors.ts';

const spec: TemplateInstanceSpec = {
  deployment: 'd',
  name: 'web',
  id: 'i-1',
  index: 0,
  az: null,
  bootstrap: true,
  address: null,
  ip: null,
  networks: {},
  persistentDisk: 0,
};

async function jobFrom(
  name: string,
  templates: Record<string, string>,
  destinations: Record<string, string>,
) {
  const { tgz } = await buildJobTgz({ name, templates, destinations, properties: { port: { default: 1 } } });
  const files = await readJobTemplates(Readable.from([tgz]));
  return {
    jobSpec: JobManifest.parse({ name, templates: destinations, properties: { port: { default: 1 } } }),
    templates: files.templates,
    monit: files.monit,
    manifestProperties: {},
    release: { name: 'r', version: '1' },
  };
}

describe('renderInstanceTemplates', () => {
  let dir: string;
  let blobstore: LocalDirBlobstore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-render-'));
    blobstore = new LocalDirBlobstore(dir);
    await blobstore.start();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const stored = async () => {
    const ids: string[] = [];
    for await (const id of blobstore.list()) ids.push(id);
    return ids;
  };

  it('stores one archive with <job>/monit and every template at its destination, deterministically', async () => {
    const jobs = [
      await jobFrom('b-job', { 'x.erb': 'x=<%= p("port") %>' }, { 'x.erb': 'config/x' }),
      await jobFrom('a-job', { 'ctl.erb': '#!/bin/sh\n# <%= spec.name %>' }, { 'ctl.erb': 'bin/ctl' }),
    ];
    const first = await renderInstanceTemplates({ spec, jobs, blobstore });
    const again = await renderInstanceTemplates({ spec, jobs: [...jobs].reverse(), blobstore });
    assert.deepEqual(again.archive, first.archive);
    assert.equal(again.configurationHash, first.configurationHash);
    assert.deepEqual(Object.keys(first.templateHashes), ['a-job', 'b-job']);
    const names: string[] = [];
    for await (const entry of openTar(await blobstore.get(first.archive.blobstoreId))) {
      names.push(`${entry.header.name} ${entry.header.mode.toString(8)}`);
    }
    assert.deepEqual(names, [
      'a-job/ 755',
      'a-job/monit 644',
      'a-job/bin/ 755',
      'a-job/bin/ctl 755',
      'b-job/ 755',
      'b-job/monit 644',
      'b-job/config/ 755',
      'b-job/config/x 644',
    ]);
    const changed = await renderInstanceTemplates({ spec: { ...spec, name: 'api' }, jobs, blobstore });
    assert.notEqual(changed.configurationHash, first.configurationHash);
    assert.equal(changed.templateHashes['b-job'], first.templateHashes['b-job']);
    assert.notEqual(changed.templateHashes['a-job'], first.templateHashes['a-job']);
  });

  it("fails with BOSH's nested message naming every failing job, storing nothing", async () => {
    const before = await stored();
    const jobs = [
      await jobFrom('a-job', { 'a.erb': '<%= p("nope") %>' }, { 'a.erb': 'a' }),
      await jobFrom('ok-job', { 'ok.erb': 'fine' }, { 'ok.erb': 'ok' }),
      await jobFrom('z-job', { 'z.erb': '\n<%= link("db") %>' }, { 'z.erb': 'z' }),
    ];
    await assert.rejects(renderInstanceTemplates({ spec, jobs, blobstore }), (error: unknown) => {
      assert.ok(error instanceof InstanceGroupTemplatesRenderFailed);
      assert.equal(
        error.message,
        [
          "Unable to render jobs for instance group 'web'. Errors are:",
          "  - Unable to render templates for job 'a-job'. Errors are:",
          `    - Error filling in template 'a.erb' (line 1: Can't find property '["nope"]')`,
          "  - Unable to render templates for job 'z-job'. Errors are:",
          "    - Error filling in template 'z.erb' (line 2: Can't find link 'db')",
        ].join('\n'),
      );
      return true;
    });
    assert.deepEqual(await stored(), before);
  });
});
