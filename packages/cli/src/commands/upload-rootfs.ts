import { z } from 'zod';
import { RootfsManifest } from '@refit/protocol';
import { parse as parseYaml } from 'yaml';
import { ArchiveError, readTarMember } from '../archive/read-tar-member.ts';
import type { Command } from '../command.ts';
import { rootfsNeedsUpload, uploadRootfs as postRootfs } from '../director-client/rootfs.ts';
import { fileUploadBody, remoteUploadBody } from '../director-client/upload-body.ts';
import { line, result } from '../output.ts';
import { artifactLocation } from './artifact-location.ts';
import { onePositional, optionalString } from './arg-schema.ts';
import { runStartedTask } from './follow-events.ts';

interface UploadRootfsArgs {
  readonly location: string;
  readonly sha1: string | undefined;
  readonly name: string;
  readonly version: string;
}

/** `rootfs.MF` of a generic stemcell, read and validated locally before anything is sent. */
export async function readRootfsManifest(path: string): Promise<RootfsManifest> {
  const manifest = await readTarMember(path, 'rootfs.MF');
  let document: unknown;
  try {
    document = parseYaml(manifest);
  } catch (error) {
    throw new ArchiveError(`Parsing 'rootfs.MF' of '${path}': ${(error as Error).message}`, { cause: error });
  }
  const parsed = RootfsManifest.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ArchiveError(
      `Invalid 'rootfs.MF' in '${path}': ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
    );
  }
  return parsed.data;
}

/**
 * `refit upload-rootfs PATH|URL [--sha1 DIGEST]`: uploads a generic stemcell (`rootfs.tgz`) for
 * OS reload: `POST /rootfs_uploads` (needed?), then `POST /rootfs` streamed, then the task.
 */
export const uploadRootfs: Command<UploadRootfsArgs> = {
  name: 'upload-rootfs',
  summary: 'Upload a generic stemcell (rootfs.tgz) for OS reload',
  usage: 'URL',
  flags: [
    {
      name: 'sha1',
      kind: 'string',
      description: 'Digest of the remote rootfs (sha1 or sha256:HEX; not used with local files)',
    },
    {
      name: 'name',
      kind: 'string',
      description: 'Name used in existence check (not used with a local file)',
    },
    {
      name: 'version',
      kind: 'string',
      description: 'Version used in existence check (not used with a local file)',
    },
  ],
  args: z
    .object({
      positionals: onePositional('URL'),
      flags: z.object({ sha1: optionalString, name: optionalString, version: optionalString }),
    })
    .transform(({ positionals, flags }) => ({
      location: positionals,
      sha1: flags.sha1,
      name: flags.name ?? '',
      version: flags.version ?? '',
    })),
  async run(deps, args, signal) {
    const where = artifactLocation(args.location);
    const identity =
      where.kind === 'file'
        ? await readRootfsManifest(where.path)
        : { name: args.name, version: args.version };
    const client = await deps.session.director();
    const wanted = { name: identity.name, version: identity.version };
    if (!(await rootfsNeedsUpload(client, wanted, signal))) {
      return result(line(`Rootfs '${wanted.name}/${wanted.version}' already exists.`));
    }
    const body =
      where.kind === 'file'
        ? await fileUploadBody(where.path, deps.ui.uploadProgress())
        : remoteUploadBody(where.url, args.sha1);
    const taskId = await postRootfs(client, body, signal);
    await runStartedTask(deps, client, taskId, signal);
    return result();
  },
};
