import { z } from 'zod';
import { VersionString } from '@refit/protocol';
import { parse as parseYaml } from 'yaml';
import { ArchiveError, readTarMember } from '../archive/read-tar-member.ts';
import type { Command } from '../command.ts';
import { stemcellNeedsUpload, uploadStemcell as postStemcell } from '../director-client/stemcells.ts';
import { fileUploadBody, remoteUploadBody } from '../director-client/upload-body.ts';
import { line, result } from '../output.ts';
import { flag, onePositional, optionalString } from './arg-schema.ts';
import { runStartedTask } from './follow-events.ts';
import { artifactLocation } from './artifact-location.ts';

const StemcellIdentity = z.object({ name: z.string().min(1), version: VersionString });

interface UploadStemcellArgs {
  readonly location: string;
  readonly fix: boolean;
  readonly name: string;
  readonly version: string;
  readonly sha1: string | undefined;
}

/** Name and version from the tarball's `stemcell.MF`, read locally as the stock CLI does. */
export async function readStemcellIdentity(path: string): Promise<{ name: string; version: string }> {
  const manifest = await readTarMember(path, 'stemcell.MF');
  let document: unknown;
  try {
    document = parseYaml(manifest);
  } catch (error) {
    throw new ArchiveError(`Parsing 'stemcell.MF' of '${path}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = StemcellIdentity.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ArchiveError(
      `Invalid 'stemcell.MF' in '${path}': ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
    );
  }
  return parsed.data;
}

/**
 * `refit upload-stemcell PATH|URL`: asks `POST /stemcell_uploads` whether it is needed (unless
 * --fix), streams the tarball with a progress bar (or sends the URL), and follows the task.
 */
export const uploadStemcell: Command<UploadStemcellArgs> = {
  name: 'upload-stemcell',
  aliases: ['us'],
  summary: 'Upload stemcell',
  usage: 'URL',
  flags: [
    { name: 'fix', kind: 'boolean', description: 'Replaces the stemcell if already exists' },
    {
      name: 'name',
      kind: 'string',
      description: 'Name used in existence check (is not used with local stemcell file)',
    },
    {
      name: 'version',
      kind: 'string',
      description: 'Version used in existence check (is not used with local stemcell file)',
    },
    {
      name: 'sha1',
      kind: 'string',
      description: 'SHA1 of the remote stemcell (is not used with local files)',
    },
  ],
  args: z
    .object({
      positionals: onePositional('URL'),
      flags: z.object({ fix: flag, name: optionalString, version: optionalString, sha1: optionalString }),
    })
    .transform(({ positionals, flags }) => ({
      location: positionals,
      fix: flags.fix,
      name: flags.name ?? '',
      version: flags.version ?? '',
      sha1: flags.sha1,
    })),
  async run(deps, args, signal) {
    const where = artifactLocation(args.location);
    const identity =
      where.kind === 'file'
        ? await readStemcellIdentity(where.path)
        : { name: args.name, version: args.version };
    const client = await deps.session.director();
    if (!args.fix && !(await stemcellNeedsUpload(client, identity, signal))) {
      return result(line(`Stemcell '${identity.name}/${identity.version}' already exists.`));
    }
    const body =
      where.kind === 'file'
        ? await fileUploadBody(where.path, deps.ui.uploadProgress())
        : remoteUploadBody(where.url, args.sha1);
    const taskId = await postStemcell(client, body, args.fix, signal);
    await runStartedTask(deps, client, taskId, signal);
    return result();
  },
};
