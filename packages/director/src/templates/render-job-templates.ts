import { createHash } from 'node:crypto';
import type { JobManifest } from '@refit/protocol';
import { resolveJobProperties } from './resolve-job-properties.ts';
import { runRenderer, type RendererOptions } from './run-renderer.ts';
import { JobTemplateRenderFailed } from './template-errors.ts';

/** The instance as its templates see it (`spec.*`); converted to BOSH's snake_case names. */
export interface TemplateInstanceSpec {
  readonly deployment: string;
  /** The instance group name (`spec.name`, `spec.job.name` and `name` in templates). */
  readonly name: string;
  readonly id: string;
  readonly index: number;
  readonly az: string | null;
  readonly bootstrap: boolean;
  readonly address: string | null;
  readonly ip: string | null;
  /** Network name → BOSH network settings (`ip`, `netmask`, `gateway`, `dns`, `default`, …). */
  readonly networks: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Persistent disk size in MB (0 when none). */
  readonly persistentDisk: number;
  readonly dnsDomainName?: string;
}

/** One instance of a link, as `link('x').instances` shows it. */
export interface TemplateLinkInstance {
  readonly name: string;
  readonly index: number;
  readonly id: string;
  readonly az: string | null;
  readonly address: string;
  readonly bootstrap: boolean;
  readonly properties?: Readonly<Record<string, unknown>>;
}

/** A resolved link (the deploy work resolves them; templates only read them). */
export interface TemplateLink {
  readonly instances: readonly TemplateLinkInstance[];
  /** The provider's link properties (`link('x').p('port')`). */
  readonly properties?: Readonly<Record<string, unknown>>;
  /** What `link('x').address` returns. */
  readonly address?: string;
}

export interface RenderJobInput {
  /** The job's parsed job.MF (`templates`: source → destination; `properties` with defaults). */
  readonly jobSpec: JobManifest;
  /** Template contents by source path (the files under `templates/` in the job tarball). */
  readonly templates: ReadonlyMap<string, string>;
  /** The job's `monit` file (ERB as well). */
  readonly monit: string;
  /** The job's properties from the deployment manifest (instance group job, else global). */
  readonly manifestProperties: Readonly<Record<string, unknown>>;
  readonly spec: TemplateInstanceSpec;
  readonly release: { readonly name: string; readonly version: string };
  readonly links?: Readonly<Record<string, TemplateLink>>;
}

export interface RenderedJob {
  readonly name: string;
  /** Destination (relative to the job's directory) → rendered content. */
  readonly files: ReadonlyMap<string, string>;
  readonly monit: string;
  /** sha1 over the rendered monit then each rendered template in source-name order (BOSH's template hash). */
  readonly configurationHash: string;
}

function linkContext(link: TemplateLink): Record<string, unknown> {
  return {
    instances: link.instances.map((i) => ({
      name: i.name,
      index: i.index,
      id: i.id,
      az: i.az,
      address: i.address,
      bootstrap: i.bootstrap,
      properties: i.properties ?? {},
    })),
    properties: link.properties ?? {},
    ...(link.address === undefined ? {} : { address: link.address }),
  };
}

/** BOSH's template spec, as templates see it (`spec.persistent_disk`, `spec.release.name`, …). */
export function templateContext(input: Omit<RenderJobInput, 'templates' | 'monit'>): Record<string, unknown> {
  const { spec } = input;
  return {
    deployment: spec.deployment,
    name: spec.name,
    job: { name: spec.name },
    id: spec.id,
    index: spec.index,
    az: spec.az,
    bootstrap: spec.bootstrap,
    address: spec.address,
    ip: spec.ip,
    networks: spec.networks,
    persistent_disk: spec.persistentDisk,
    dns_domain_name: spec.dnsDomainName ?? 'bosh',
    release: { name: input.release.name, version: input.release.version },
    properties: resolveJobProperties(input.jobSpec, { ...input.manifestProperties }),
    links: Object.fromEntries(
      Object.entries(input.links ?? {}).map(([name, link]) => [name, linkContext(link)]),
    ),
  };
}

/**
 * Renders one job's ERB templates and monit file for one instance with Ruby's own ERB (see
 * renderer.rb). A template that fails (missing property, raise, syntax error) fails the whole
 * job with JobTemplateRenderFailed naming the job, each failing file and its line.
 */
export async function renderJobTemplates(
  input: RenderJobInput,
  options: RendererOptions = {},
): Promise<RenderedJob> {
  const sources = Object.keys(input.jobSpec.templates).sort();
  const templates = [
    { source: 'monit', contents: input.monit },
    ...sources.map((source) => {
      const contents = input.templates.get(source);
      if (contents === undefined) {
        throw new JobTemplateRenderFailed(input.jobSpec.name, [
          { file: source, line: null, message: `template file '${source}' is not in the job` },
        ]);
      }
      return { source, contents };
    }),
  ];
  const answer = await runRenderer(
    { job: input.jobSpec.name, templates, context: templateContext(input) },
    options,
  );
  if (answer.errors.length > 0) {
    throw new JobTemplateRenderFailed(
      input.jobSpec.name,
      answer.errors.map((e) => ({ file: e.source, line: e.line, message: e.message })),
    );
  }
  const [monit, ...rendered] = answer.rendered;
  if (monit === undefined || rendered.length !== sources.length) {
    throw new JobTemplateRenderFailed(input.jobSpec.name, [
      { file: 'monit', line: null, message: 'the renderer returned fewer templates than it was given' },
    ]);
  }
  const files = new Map<string, string>();
  const hash = createHash('sha1').update(monit.contents);
  sources.forEach((source, i) => {
    const contents = rendered[i]?.contents ?? '';
    files.set(input.jobSpec.templates[source] ?? source, contents);
    hash.update(contents);
  });
  return { name: input.jobSpec.name, files, monit: monit.contents, configurationHash: hash.digest('hex') };
}
