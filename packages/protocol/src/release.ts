import { z } from 'zod';

/**
 * Release tarballs as `bosh create-release` makes them (reference §1.6), and the release API
 * answers. Manifests are parsed leniently (real releases carry extra keys); names that become
 * archive paths (`jobs/<name>.tgz`) must be plain names.
 */

/** Versions and names are strings on the wire; YAML numbers are stringified as BOSH does. */
const Text = z.union([z.string().min(1), z.number()]).transform((v) => String(v));

/** A job, package or release name: no path separators, no `..`, nothing hidden. */
export const ReleaseObjectName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/, 'must be letters, digits, and . _ + - only')
  .refine((name) => !name.includes('..'), 'must not contain ..');

const Digest = z.string().min(1);

export const ReleaseManifestJob = z.object({
  name: ReleaseObjectName,
  version: Text,
  fingerprint: Text,
  sha1: Digest,
  packages: z.array(z.string()).optional(),
});
export type ReleaseManifestJob = z.infer<typeof ReleaseManifestJob>;

export const ReleaseManifestPackage = z.object({
  name: ReleaseObjectName,
  version: Text,
  fingerprint: Text,
  sha1: Digest,
  dependencies: z
    .array(z.string())
    .nullish()
    .transform((d) => d ?? []),
});
export type ReleaseManifestPackage = z.infer<typeof ReleaseManifestPackage>;

export const ReleaseManifestCompiledPackage = ReleaseManifestPackage.extend({
  /** `<os>/<version>`, e.g. `ubuntu-jammy/1.500`. */
  stemcell: z.string().regex(/^[^/]+\/[^/]+$/, "must be '<os>/<version>'"),
});
export type ReleaseManifestCompiledPackage = z.infer<typeof ReleaseManifestCompiledPackage>;

/** `release.MF`: either `packages` (source release) or `compiled_packages` (compiled release). */
export const ReleaseManifest = z.object({
  name: ReleaseObjectName,
  version: Text,
  commit_hash: z.string().nullish(),
  uncommitted_changes: z.boolean().nullish(),
  jobs: z
    .array(ReleaseManifestJob)
    .nullish()
    .transform((j) => j ?? []),
  packages: z.array(ReleaseManifestPackage).nullish(),
  compiled_packages: z.array(ReleaseManifestCompiledPackage).nullish(),
  license: z
    .object({ version: Text.optional(), fingerprint: Text.optional(), sha1: Digest.optional() })
    .nullish(),
});
export type ReleaseManifest = z.infer<typeof ReleaseManifest>;

export const JobPropertySpec = z
  .object({
    description: z.unknown().optional(),
    default: z.unknown().optional(),
    example: z.unknown().optional(),
    type: z.unknown().optional(),
  })
  .nullish()
  .transform((spec) => spec ?? {});

const LinkSpec = z.object({
  name: z.string().min(1),
  type: z.string().min(1),
  optional: z.boolean().optional(),
  properties: z.array(z.string()).optional(),
});

/** `job.MF` inside `jobs/<name>.tgz`. */
export const JobManifest = z.object({
  name: ReleaseObjectName,
  description: z.string().nullish(),
  /** Template source (under `templates/`) → destination under the job's directory. */
  templates: z
    .record(z.string(), z.string())
    .nullish()
    .transform((t) => t ?? {}),
  packages: z
    .array(z.string())
    .nullish()
    .transform((p) => p ?? []),
  properties: z
    .record(z.string(), JobPropertySpec)
    .nullish()
    .transform((p) => p ?? {}),
  consumes: z
    .array(LinkSpec)
    .nullish()
    .transform((c) => c ?? []),
  provides: z
    .array(LinkSpec)
    .nullish()
    .transform((c) => c ?? []),
  logs: z.record(z.string(), z.unknown()).nullish(),
});
export type JobManifest = z.infer<typeof JobManifest>;

/** `GET /releases` element. */
export interface ReleaseListItem {
  readonly name: string;
  readonly release_versions: readonly {
    readonly version: string;
    readonly commit_hash: string | null;
    readonly uncommitted_changes: boolean;
    readonly currently_deployed: boolean;
    readonly job_names: readonly string[];
  }[];
}

/** `GET /releases/<name>?version=<v>`. */
export interface ReleaseVersionDetails {
  readonly jobs: readonly {
    readonly name: string;
    readonly blobstore_id: string;
    readonly sha1: string;
    readonly fingerprint: string;
    readonly consumes: readonly unknown[];
    readonly provides: readonly unknown[];
  }[];
  readonly packages: readonly {
    readonly name: string;
    readonly blobstore_id: string | null;
    readonly sha1: string | null;
    readonly fingerprint: string;
    readonly compiled_packages: readonly {
      readonly stemcell: string;
      readonly sha1: string;
      readonly blobstore_id: string;
    }[];
  }[];
}

/** Task params and bodies of the release upload route (`POST /releases`, JSON form). */
export const RemoteReleaseBody = z.object({
  location: z.string().min(1),
  sha1: z.string().optional(),
});

/**
 * The director's ERB renderer (`ruby renderer.rb`): its answer on stdout. The request is
 * `{job, templates: [{source, contents}], context}` where `context` is BOSH's template spec
 * (snake_case, as templates see it: `spec.persistent_disk`, `spec.release.name`, …).
 */
export const TemplateRendererAnswer = z.object({
  rendered: z.array(z.object({ source: z.string(), contents: z.string() })),
  errors: z.array(
    z.object({
      source: z.string(),
      line: z.number().int().nullable(),
      message: z.string(),
      class: z.string().optional(),
    }),
  ),
});
export type TemplateRendererAnswer = z.infer<typeof TemplateRendererAnswer>;
