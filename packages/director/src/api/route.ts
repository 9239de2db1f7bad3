import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What a handler sees: the authenticated user, path params, query, headers and the raw body stream. */
export interface RouteRequest {
  readonly method: HttpMethod;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly user: string;
  /** The request body, unread: stream it (uploads) or use readJson/readText from body.ts. */
  readonly body: Readable;
  readonly signal: AbortSignal;
}

/** A handler's answer. `task` becomes `302 Location: /tasks/<id>`. */
export type RouteReply =
  | { readonly kind: 'json'; readonly status?: number; readonly body: unknown }
  | { readonly kind: 'text'; readonly status?: number; readonly body: string; readonly contentType?: string }
  | { readonly kind: 'empty'; readonly status: number }
  | { readonly kind: 'task'; readonly taskId: number }
  | {
      readonly kind: 'stream';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: Readable;
    };

export interface Route {
  readonly method: HttpMethod;
  /** Path pattern with `:name` segments, e.g. `/stemcells/:name/:version`. */
  readonly path: string;
  /** `false` only for `GET /info`. */
  readonly auth?: boolean;
  handle(request: RouteRequest): Promise<RouteReply>;
}
