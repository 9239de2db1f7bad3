import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { Route, RouteReply, RouteRequest } from '../api/route.ts';
import type { Blobstore } from '../blobstore/blobstore.ts';
import type { Db } from '../db/db.ts';
import { isAgentAuthorized, type AgentBlobCredentials } from './agent-blob-credentials.ts';
import { BLOB_ID, BLOB_NAME, recordAgentBlobName, resolveAgentBlob } from './agent-blob-names.ts';
import { parseRange } from './http-range.ts';

export interface AgentBlobRouteDeps {
  readonly db: Db;
  readonly blobstore: Blobstore;
  readonly credentials: AgentBlobCredentials;
}

/** `<hh>` of BOSH's dav layout: the first byte of sha1(id), in hex (reference §3.6). */
export function davShard(id: string): string {
  return createHash('sha1').update(id).digest('hex').slice(0, 2);
}

const empty = (status: number, headers: Record<string, string> = {}): RouteReply => ({
  kind: 'stream',
  status,
  headers: { 'Content-Length': '0', ...headers },
  body: Readable.from([]),
});

const text = (status: number, body: string): RouteReply => ({ kind: 'text', status, body: `${body}\n` });

/** Refuses a request that is not the agents' (the admin's credentials are refused too). */
function refuse(request: RouteRequest, credentials: AgentBlobCredentials): RouteReply | null {
  if (isAgentAuthorized(request.headers.authorization, credentials)) return null;
  request.body.resume();
  return empty(401, { 'WWW-Authenticate': 'Basic realm="Refit blobs"' });
}

/** The id in the path, if it is one an agent may use and `<hh>` matches it. */
function blobName(request: RouteRequest): string | null {
  const { hh = '', id = '' } = request.params;
  if (!BLOB_ID.test(id) && !BLOB_NAME.test(id)) return null;
  return davShard(id) === hh ? id : null;
}

/**
 * `GET /blobs/<hh>/<id>`: the blob, streamed; `Range` → 206 / 416 (resumable downloads),
 * `If-Range` with a stale ETag → the whole blob. `<id>` is a blob id (sha256) or a name an agent
 * uploaded under.
 */
export function getAgentBlobRoute(deps: AgentBlobRouteDeps): Route {
  return {
    method: 'GET',
    path: '/blobs/:hh/:id',
    auth: false,
    async handle(request) {
      const refused = refuse(request, deps.credentials);
      if (refused !== null) return refused;
      const name = blobName(request);
      const blobId = name === null ? null : await resolveAgentBlob(deps.db, name);
      const info = blobId === null ? null : await deps.blobstore.stat(blobId);
      if (blobId === null || info === null) return text(404, `Blob '${request.params.id ?? ''}' not found`);
      const etag = `"${info.sha256}"`;
      const ifRange = request.headers['if-range'];
      const header = ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
      const range = parseRange(header, info.size);
      const common = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: etag };
      if (range === 'unsatisfiable') return empty(416, { 'Content-Range': `bytes */${info.size}` });
      if (range === null) {
        return {
          kind: 'stream',
          status: 200,
          headers: { ...common, 'Content-Length': String(info.size) },
          body: await deps.blobstore.get(blobId),
        };
      }
      return {
        kind: 'stream',
        status: 206,
        headers: {
          ...common,
          'Content-Length': String(range.end - range.start + 1),
          'Content-Range': `bytes ${range.start}-${range.end}/${info.size}`,
        },
        body: await deps.blobstore.get(blobId, range),
      };
    },
  };
}

/**
 * `PUT /blobs/<hh>/<id>`, streamed into the content-addressed blobstore. A sha256 `<id>` must be
 * the sha256 of the body (else 400 and nothing is kept); any other `<id>` is a name the agent
 * picked (refit-agent uses a UUID) and is recorded as standing for the content. 201 when new,
 * 204 when the id already named this content.
 */
export function putAgentBlobRoute(deps: AgentBlobRouteDeps): Route {
  return {
    method: 'PUT',
    path: '/blobs/:hh/:id',
    auth: false,
    async handle(request) {
      const refused = refuse(request, deps.credentials);
      if (refused !== null) return refused;
      const name = blobName(request);
      if (name === null) {
        request.body.resume();
        return text(
          400,
          `'${request.params.hh ?? ''}/${request.params.id ?? ''}' is not a blob path (<hh>/<id>)`,
        );
      }
      const before = await resolveAgentBlob(deps.db, name);
      const existed = before !== null && (await deps.blobstore.stat(before)) !== null;
      if (BLOB_ID.test(name)) {
        const verifier = sha256Verifier(name);
        let mismatch: ContentMismatch | null = null;
        // Kept here (the blobstore may have stopped listening once it failed): answered as 400.
        verifier.on('error', (error) => {
          if (error instanceof ContentMismatch) mismatch = error;
        });
        request.body.on('error', (error) => verifier.destroy(error));
        try {
          await deps.blobstore.put(request.body.pipe(verifier), request.signal);
        } catch (error) {
          if (mismatch !== null) return text(400, (mismatch as ContentMismatch).message);
          throw error;
        }
        return empty(existed ? 204 : 201);
      }
      const stored = await deps.blobstore.put(request.body, request.signal);
      await recordAgentBlobName(deps.db, name, stored.id);
      return empty(existed && before === stored.id ? 204 : 201);
    },
  };
}

class ContentMismatch extends Error {
  override name = 'ContentMismatch';
}

/** Passes bytes through and fails at the end unless their sha256 is `expected`. */
function sha256Verifier(expected: string): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actual = hash.digest('hex');
      done(
        actual === expected
          ? null
          : new ContentMismatch(`content does not match blob id ${expected} (its sha256 is ${actual})`),
      );
    },
  });
}
