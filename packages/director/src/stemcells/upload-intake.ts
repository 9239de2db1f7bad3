import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MultiDigest, RemoteUploadBody, strongestDigest, type DigestEntry } from '@refit/protocol';
import { z } from 'zod';
import { readJson } from '../api/body.ts';
import type { Route, RouteRequest } from '../api/route.ts';
import { BugError, ValidationInvalidType, ValidationMissingField, type DirectorError } from '../errors.ts';
import type { EventStage, TaskContext, TaskQueue } from '../tasks/task-context.ts';
import { downloadRemote } from './download-remote.ts';
import type { ScratchSpace } from './scratch-space.ts';
import { UploadLost } from './upload-errors.ts';

/** Name of the received or downloaded archive inside an upload's scratch folder. */
export const ARCHIVE_FILE = 'archive.tgz';

/** Parameters of an upload task (`update_stemcell`, `update_rootfs`), persisted with the task. */
export const UploadTaskParams = z.object({
  scratchDir: z.string().min(1),
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('file') }),
    z.object({ kind: z.literal('url'), location: z.string().min(1), digest: z.string().optional() }),
  ]),
  fix: z.boolean(),
});
export type UploadTaskParams = z.infer<typeof UploadTaskParams>;

export interface UploadRouteOptions {
  /** `/stemcells` or `/rootfs`. */
  readonly path: string;
  readonly taskType: string;
  readonly description: string;
  readonly scratch: ScratchSpace;
  readonly tasks: TaskQueue;
}

/**
 * `POST /stemcells` and `POST /rootfs`: a JSON body `{location, sha1}` queues a task that
 * downloads; any other body is the archive itself, streamed to a file in the upload's scratch
 * folder before the task is queued (never held in memory). Answers 302 to the task.
 */
export function uploadRoute(options: UploadRouteOptions): Route {
  return {
    method: 'POST',
    path: options.path,
    async handle(request) {
      const fix = request.query.get('fix') === 'true';
      const remote = isJson(request) ? parseRemote(await readJson(request, z.unknown())) : null;
      const scratchDir = await options.scratch.create();
      try {
        if (!remote) await receiveArchive(request, join(scratchDir, ARCHIVE_FILE));
        const params: UploadTaskParams = {
          scratchDir,
          source: remote ? { kind: 'url', ...remote } : { kind: 'file' },
          fix,
        };
        const taskId = await options.tasks.enqueue({
          type: options.taskType,
          description: options.description,
          user: request.user,
          params,
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

function parseRemote(body: unknown): { location: string; digest?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationInvalidType(
      `Object (${JSON.stringify(body)}) did not match the required type 'Hash'`,
    );
  }
  if (!('location' in body)) throw new ValidationMissingField("Missing 'location' field");
  const parsed = RemoteUploadBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw new ValidationInvalidType(`Unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`);
    }
    const field = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.');
    throw new ValidationInvalidType(`Invalid '${field}': ${issue?.message ?? 'invalid'}`);
  }
  const url = new URL(parsed.data.location);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationInvalidType(`Invalid 'location': only http and https URLs can be downloaded`);
  }
  if (parsed.data.sha1 === undefined || parsed.data.sha1 === '') return { location: parsed.data.location };
  const digest = MultiDigest.safeParse(parsed.data.sha1);
  if (!digest.success) {
    throw new ValidationInvalidType(`Invalid 'sha1': ${digest.error.issues[0]?.message ?? 'not a digest'}`);
  }
  return { location: parsed.data.location, digest: parsed.data.sha1 };
}

/** Streams the request body to `file`; a body shorter than its Content-Length is an error. */
async function receiveArchive(request: RouteRequest, file: string): Promise<void> {
  await pipeline(request.body, createWriteStream(file, { flags: 'wx' }), { signal: request.signal });
  const announced = request.headers['content-length'];
  if (announced !== undefined) {
    const { size } = await stat(file);
    if (size !== Number(announced)) {
      throw new ValidationInvalidType(`Upload body has ${size} bytes, Content-Length said ${announced}`);
    }
  }
}

export interface FetchArchiveOptions {
  readonly what: 'stemcell' | 'rootfs';
  readonly ctx: TaskContext;
  readonly stage: EventStage;
  readonly params: UploadTaskParams;
  readonly scratch: ScratchSpace;
  /** The typed error for a digest that does not match (StemcellSha1DoesNotMatch, …). */
  readonly digestMismatch: (message: string) => DirectorError;
}

/**
 * The first steps of an upload task: make sure the archive is on disk, downloading it when the
 * upload named a URL (`Downloading remote <what>`, hashing in the same pass) and checking the
 * given digest (`Verifying remote <what>`). Returns the archive's path.
 */
export async function fetchArchive(options: FetchArchiveOptions): Promise<string> {
  const { ctx, stage, params, what } = options;
  if (!options.scratch.owns(params.scratchDir)) {
    throw new BugError(`upload scratch folder '${params.scratchDir}' is not under ${options.scratch.root}`);
  }
  const file = join(params.scratchDir, ARCHIVE_FILE);
  const source = params.source;
  if (source.kind === 'file') {
    try {
      await stat(file);
    } catch (error) {
      throw new UploadLost(
        `The uploaded ${what} is gone (the director restarted before the task ran); upload it again`,
        {
          cause: error,
        },
      );
    }
    return file;
  }
  const expected: DigestEntry | null =
    source.digest === undefined ? null : strongestDigest(MultiDigest.parse(source.digest));
  const downloaded = await stage.task(`Downloading remote ${what}`, async (progress) => {
    let lastTenth = 0;
    return downloadRemote({
      what,
      url: source.location,
      file,
      algorithms: expected ? [expected.algorithm] : [],
      signal: ctx.signal,
      debug: ctx.debug,
      onProgress: (received, total) => {
        if (total === null || total === 0) return;
        const tenth = Math.floor((received * 10) / total);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          progress.status(`${mb(received)} of ${mb(total)}`, tenth * 10);
        }
      },
    });
  });
  if (expected) {
    await stage.task(`Verifying remote ${what}`, () => {
      const actual = downloaded.digests.get(expected.algorithm);
      if (actual !== expected.hex) {
        ctx.debug.write(
          `digest mismatch: expected ${expected.algorithm}:${expected.hex}, got ${actual ?? 'nothing'}\n`,
        );
        throw options.digestMismatch(
          `Expected stream to have digest '${expected.algorithm}:${expected.hex}' but was '${expected.algorithm}:${actual ?? ''}'`,
        );
      }
      return Promise.resolve();
    });
  }
  return file;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

/** Steps `fetchArchive` adds to the stage total. */
export function fetchSteps(params: UploadTaskParams): number {
  if (params.source.kind === 'file') return 0;
  return params.source.digest === undefined ? 1 : 2;
}
