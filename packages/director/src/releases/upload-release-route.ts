import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MultiDigest, RemoteReleaseBody } from '@refit/protocol';
import { z } from 'zod';
import { readJson } from '../api/body.ts';
import type { Route, RouteRequest } from '../api/route.ts';
import { ValidationInvalidType, ValidationMissingField } from '../errors.ts';
import type { ScratchSpace } from '../stemcells/scratch-space.ts';
import type { TaskQueue } from '../tasks/task-context.ts';

export const UPDATE_RELEASE = 'update_release';
/** Release uploads and deletes share one lock: they share blobs (content addressed). */
export const RELEASES_LOCK = 'lock:releases';
/** Name of the received or downloaded archive inside an upload's scratch folder. */
export const RELEASE_ARCHIVE = 'release.tgz';

export const UpdateReleaseParams = z.object({
  scratchDir: z.string().min(1),
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('file') }),
    z.object({ kind: z.literal('url'), location: z.string().min(1), digest: z.string().optional() }),
  ]),
  fix: z.boolean(),
  rebase: z.boolean(),
});
export type UpdateReleaseParams = z.infer<typeof UpdateReleaseParams>;

/**
 * `POST /releases[?rebase=true][&fix=true]`: a JSON body `{location, sha1}` (or `?sha1=`)
 * queues a task that downloads; any other body is the release tarball, streamed to a file in
 * the upload's scratch folder before the task (`update_release`, `create release`) is queued.
 */
export function uploadReleaseRoute(options: {
  readonly scratch: ScratchSpace;
  readonly tasks: TaskQueue;
}): Route {
  return {
    method: 'POST',
    path: '/releases',
    async handle(request) {
      const fix = request.query.get('fix') === 'true';
      const rebase = request.query.get('rebase') === 'true';
      const remote = isJson(request)
        ? parseRemote(await readJson(request, z.unknown()), request.query.get('sha1'))
        : null;
      const scratchDir = await options.scratch.create();
      try {
        if (!remote) await receive(request, join(scratchDir, RELEASE_ARCHIVE));
        const params: UpdateReleaseParams = {
          scratchDir,
          source: remote ? { kind: 'url', ...remote } : { kind: 'file' },
          fix,
          rebase,
        };
        const taskId = await options.tasks.enqueue({
          type: UPDATE_RELEASE,
          description: 'create release',
          user: request.user,
          params,
          locks: [RELEASES_LOCK],
        });
        return { kind: 'task', taskId };
      } catch (error) {
        await options.scratch.remove(scratchDir);
        throw error;
      }
    },
  };
}

function isJson(request: RouteRequest): boolean {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

function parseRemote(body: unknown, querySha1: string | null): { location: string; digest?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationInvalidType(
      `Object (${JSON.stringify(body)}) did not match the required type 'Hash'`,
    );
  }
  if (!('location' in body)) throw new ValidationMissingField("Missing 'location' field");
  const parsed = RemoteReleaseBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationInvalidType(
      `Invalid '${issue?.path.join('.') ?? 'body'}': ${issue?.message ?? 'invalid'}`,
    );
  }
  const bodySha1 = parsed.data.sha1 === '' ? undefined : parsed.data.sha1;
  const query = querySha1 === null || querySha1 === '' ? undefined : querySha1;
  if (bodySha1 !== undefined && query !== undefined) {
    throw new ValidationInvalidType('Sha1 provided in multiple places');
  }
  let url: URL;
  try {
    url = new URL(parsed.data.location);
  } catch {
    throw new ValidationInvalidType(`Invalid 'location': '${parsed.data.location}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationInvalidType(`Invalid 'location': only http and https URLs can be downloaded`);
  }
  const digest = bodySha1 ?? query;
  if (digest === undefined) return { location: parsed.data.location };
  const checked = MultiDigest.safeParse(digest);
  if (!checked.success) {
    throw new ValidationInvalidType(`Invalid 'sha1': ${checked.error.issues[0]?.message ?? 'not a digest'}`);
  }
  return { location: parsed.data.location, digest };
}

/** Streams the request body to `file`; a body shorter than its Content-Length is an error. */
async function receive(request: RouteRequest, file: string): Promise<void> {
  await pipeline(request.body, createWriteStream(file, { flags: 'wx' }), { signal: request.signal });
  const announced = request.headers['content-length'];
  if (announced !== undefined) {
    const { size } = await stat(file);
    if (size !== Number(announced)) {
      throw new ValidationInvalidType(`Upload body has ${size} bytes, Content-Length said ${announced}`);
    }
  }
}
