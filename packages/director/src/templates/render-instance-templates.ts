import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Blobstore } from '../blobstore/blobstore.ts';
import {
  renderJobTemplates,
  type RenderedJob,
  type RenderJobInput,
  type TemplateInstanceSpec,
} from './render-job-templates.ts';
import type { RendererOptions } from './run-renderer.ts';
import { InstanceGroupTemplatesRenderFailed, JobTemplateRenderFailed } from './template-errors.ts';

export interface RenderInstanceInput {
  readonly spec: TemplateInstanceSpec;
  /** Every job of the instance (its release jobs), each with its own properties and links. */
  readonly jobs: readonly Omit<RenderJobInput, 'spec'>[];
  readonly blobstore: Blobstore;
  readonly renderer?: RendererOptions;
}

export interface RenderedInstance {
  readonly jobs: readonly RenderedJob[];
  /** The apply spec's `rendered_templates_archive` (reference §3.4). */
  readonly archive: { readonly blobstoreId: string; readonly sha1: string };
  /** The apply spec's `template_hashes`: job name → its configuration hash. */
  readonly templateHashes: Readonly<Record<string, string>>;
  /** The apply spec's `configuration_hash`: sha1 over every job's rendered files, jobs by name. */
  readonly configurationHash: string;
}

const MTIME = new Date(0);

/**
 * Renders every job of an instance, then stores the rendered templates archive (one tgz with
 * `<job>/monit` and every rendered template at `<job>/<destination>`, files under `bin/` made
 * executable) in the blobstore. The archive is deterministic, so an unchanged instance maps
 * to the same (content-addressed) blob. Template errors of every job are gathered into one
 * InstanceGroupTemplatesRenderFailed (BOSH's nested message) before anything is stored.
 */
export async function renderInstanceTemplates(input: RenderInstanceInput): Promise<RenderedInstance> {
  const rendered: RenderedJob[] = [];
  const failed: JobTemplateRenderFailed[] = [];
  for (const job of [...input.jobs].sort((a, b) => a.jobSpec.name.localeCompare(b.jobSpec.name))) {
    try {
      rendered.push(await renderJobTemplates({ ...job, spec: input.spec }, input.renderer));
    } catch (error) {
      if (!(error instanceof JobTemplateRenderFailed)) throw error;
      failed.push(error);
    }
  }
  if (failed.length > 0) throw new InstanceGroupTemplatesRenderFailed(input.spec.name, failed);
  const instanceHash = createHash('sha1');
  const templateHashes: Record<string, string> = {};
  for (const job of rendered) {
    templateHashes[job.name] = job.configurationHash;
    instanceHash.update(job.monit);
    for (const contents of job.files.values()) instanceHash.update(contents);
  }
  const tgz = await renderedArchive(rendered);
  input.renderer?.signal?.throwIfAborted();
  const blob = await input.blobstore.put(Readable.from([tgz]), input.renderer?.signal);
  return {
    jobs: rendered,
    archive: { blobstoreId: blob.id, sha1: blob.sha1 },
    templateHashes,
    configurationHash: instanceHash.digest('hex'),
  };
}

/** The rendered templates archive's bytes (tgz) for these jobs. */
export async function renderedArchive(jobs: readonly RenderedJob[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  const add = (name: string, contents: string | null, mode: number) =>
    new Promise<void>((resolve, reject) => {
      const callback = (error?: Error | null) => (error ? reject(error) : resolve());
      if (contents === null) {
        pack.entry({ name, type: 'directory', mode, mtime: MTIME }, callback);
      } else {
        const body = Buffer.from(contents, 'utf8');
        pack.entry({ name, type: 'file', mode, mtime: MTIME, size: body.length }, body, callback);
      }
    });
  for (const job of jobs) {
    await add(`${job.name}/`, null, 0o755);
    await add(`${job.name}/monit`, job.monit, 0o644);
    const made = new Set<string>();
    for (const [destination, contents] of [...job.files].sort(([a], [b]) => a.localeCompare(b))) {
      const parts = destination.split('/').filter((p) => p !== '' && p !== '.');
      for (let i = 1; i < parts.length; i++) {
        const dir = `${job.name}/${parts.slice(0, i).join('/')}/`;
        if (!made.has(dir)) {
          made.add(dir);
          await add(dir, null, 0o755);
        }
      }
      const executable = parts[0] === 'bin' || destination.endsWith('.sh');
      await add(`${job.name}/${parts.join('/')}`, contents, executable ? 0o755 : 0o644);
    }
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}
