import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { ArchiveError, readTarMember } from '../archive/read-tar-member.ts';
import { omitReleasePackages } from '../archive/omit-release-packages.ts';
import type { Command } from '../command.ts';
import { listReleases, matchPackages, uploadRelease as postRelease } from '../director-client/releases.ts';
import { fileUploadBody, remoteUploadBody } from '../director-client/upload-body.ts';
import { line, result } from '../output.ts';
import { flag, optionalString } from './arg-schema.ts';
import { artifactLocation } from './artifact-location.ts';
import { runStartedTask } from './follow-events.ts';

const PackageEntry = z.object({ name: z.string(), fingerprint: z.string().nullish() });
const ReleaseManifest = z.object({
  name: z.string().min(1),
  version: z.union([z.string().min(1), z.number()]).transform(String),
  packages: z.array(PackageEntry).nullish(),
  compiled_packages: z.array(PackageEntry).nullish(),
});

export interface LocalRelease {
  readonly name: string;
  readonly version: string;
  readonly compiled: boolean;
  /** Package name → fingerprint, from `release.MF`. */
  readonly fingerprints: ReadonlyMap<string, string>;
  /** `release.MF` as found, sent to `POST /packages/matches`. */
  readonly manifestText: string;
}

/** Reads `release.MF` out of a release tarball, without unpacking it. */
export async function readLocalRelease(path: string): Promise<LocalRelease> {
  const manifestText = await readTarMember(path, 'release.MF');
  let document: unknown;
  try {
    document = parseYaml(manifestText);
  } catch (error) {
    throw new ArchiveError(`Parsing 'release.MF' of '${path}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = ReleaseManifest.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ArchiveError(
      `Invalid 'release.MF' in '${path}': ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
    );
  }
  const compiled = (parsed.data.compiled_packages ?? []).length > 0;
  const packages = compiled ? (parsed.data.compiled_packages ?? []) : (parsed.data.packages ?? []);
  return {
    name: parsed.data.name,
    version: parsed.data.version,
    compiled,
    fingerprints: new Map(packages.flatMap((p) => (p.fingerprint ? [[p.name, p.fingerprint] as const] : []))),
    manifestText,
  };
}

interface UploadReleaseArgs {
  readonly location: string;
  readonly fix: boolean;
  readonly rebase: boolean;
  readonly name: string;
  readonly version: string;
  readonly sha1: string | undefined;
}

/**
 * `refit upload-release PATH|URL`: unless --fix, checks `GET /releases` for the name/version
 * (from `release.MF`, or --name/--version for a URL) and stops when the director has it; for a
 * file, asks `POST /packages/matches` which packages the director already has and leaves them
 * out of the upload; streams the tarball with a progress bar (or sends the URL) and follows the
 * task.
 */
export const uploadRelease: Command<UploadReleaseArgs> = {
  name: 'upload-release',
  aliases: ['ur'],
  summary: 'Upload release',
  usage: 'URL',
  flags: [
    {
      name: 'rebase',
      kind: 'boolean',
      description: 'Rebases this release onto the latest version known by the Director',
    },
    { name: 'fix', kind: 'boolean', description: 'Replaces corrupt and missing jobs and packages' },
    {
      name: 'name',
      kind: 'string',
      description: 'Name used in existence check (is not used with local release file)',
    },
    {
      name: 'version',
      kind: 'string',
      description: 'Version used in existence check (is not used with local release file)',
    },
    {
      name: 'sha1',
      kind: 'string',
      description: 'SHA1 of the remote release (is not used with local files)',
    },
  ],
  args: z
    .object({
      positionals: z
        .array(z.string())
        .length(1, { message: 'expected one argument: URL (a release tarball or its URL)' })
        .transform((values) => values[0] ?? ''),
      flags: z.object({
        fix: flag,
        rebase: flag,
        name: optionalString,
        version: optionalString,
        sha1: optionalString,
      }),
    })
    .transform(({ positionals, flags }) => ({
      location: positionals,
      fix: flags.fix,
      rebase: flags.rebase,
      name: flags.name ?? '',
      version: flags.version ?? '',
      sha1: flags.sha1,
    })),
  async run(deps, args, signal) {
    const where = artifactLocation(args.location);
    const local = where.kind === 'file' ? await readLocalRelease(where.path) : undefined;
    const identity = local ?? { name: args.name, version: args.version };
    const client = await deps.session.director();
    if (!args.fix) {
      const known = await listReleases(client, signal);
      if (known.some((r) => r.name === identity.name && r.version === identity.version)) {
        return result(line(`Release '${identity.name}/${identity.version}' already exists.`));
      }
    }
    const options = { fix: args.fix, rebase: args.rebase };
    if (where.kind === 'url' || local === undefined) {
      const taskId = await postRelease(client, remoteUploadBody(args.location, args.sha1), options, signal);
      await runStartedTask(deps, client, taskId, signal);
      return result();
    }
    const scratch = await mkdtemp(join(tmpdir(), 'refit-upload-release-'));
    try {
      let path = where.path;
      if (!args.fix) {
        const matched = new Set(await matchPackages(client, local.manifestText, local.compiled, signal));
        const omit = new Set(
          [...local.fingerprints].filter(([, fp]) => matched.has(fp)).map(([name]) => name),
        );
        if (omit.size > 0) {
          path = join(scratch, 'release.tgz');
          await omitReleasePackages(where.path, path, omit, signal);
        }
      }
      const body = await fileUploadBody(path, deps.ui.uploadProgress());
      const taskId = await postRelease(client, body, options, signal);
      await runStartedTask(deps, client, taskId, signal);
      return result();
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
};
