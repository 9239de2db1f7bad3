import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { DirectorLog } from '../config/director-log.ts';
import { ContextIdViolatedMax, DirectorError } from '../errors.ts';
import type { RequestContextStore } from '../tasks/request-context.ts';
import { basicAuthUser, type CredentialsFile } from './credentials.ts';
import type { HttpMethod, RouteReply, RouteRequest, Route } from './route.ts';
import { Router } from './router.ts';
import type { TlsMaterial } from './tls-material.ts';

export interface ApiServerOptions {
  readonly routes: readonly Route[];
  readonly tls: TlsMaterial;
  readonly credentials: CredentialsFile;
  readonly log: DirectorLog;
  readonly requests: RequestContextStore;
}

const METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'DELETE'];

/**
 * The director's HTTPS API: basic auth on every route but `GET /info`, BOSH's error shapes
 * (reference §1.1–1.2), and the reply kinds of route.ts. Listening is the caller's (127.0.0.1).
 */
export function createApiServer(options: ApiServerOptions): Server {
  const router = new Router(options.routes);
  const server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (request, response) => {
    const started = Date.now();
    handle(router, options, request, response)
      .catch((error: unknown) => {
        options.log.error('request failed', { method: request.method, error: errorText(error) });
        if (!response.headersSent) response.writeHead(500).end();
        else response.destroy();
      })
      .finally(() => {
        options.log.debug('request', {
          method: request.method,
          path: pathOf(request),
          status: response.statusCode,
          ms: Date.now() - started,
        });
      });
  });
  // Uploads of large stemcells take a while: no socket timeout on requests in progress.
  server.requestTimeout = 0;
  return server;
}

function pathOf(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'https://director').pathname;
}

async function handle(
  router: Router,
  options: ApiServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'https://director');
  const path = url.pathname;
  const method = request.method ?? 'GET';
  const match = METHODS.includes(method) ? router.match(method, path) : null;
  const user = basicAuthUser(request.headers.authorization, options.credentials);
  if (user === null && match?.route.auth !== false) {
    response
      .writeHead(401, { 'WWW-Authenticate': 'Basic realm="BOSH Director"', 'Content-Type': 'text/plain' })
      .end(`Not authorized: '${path}'\n`);
    return;
  }
  if (match === null) {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end(`Endpoint '${path}' not found.`);
    return;
  }
  const controller = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) controller.abort(new Error('client went away'));
  });
  const contextHeader = request.headers['x-bosh-context-id'];
  const contextId = (Array.isArray(contextHeader) ? contextHeader[0] : contextHeader) ?? '';
  let reply: RouteReply;
  try {
    if (contextId.length > 64) {
      throw new ContextIdViolatedMax('X-Bosh-Context-Id cannot be more than 64 characters in length');
    }
    const routeRequest: RouteRequest = {
      method: method as HttpMethod,
      path,
      params: match.params,
      query: url.searchParams,
      headers: request.headers,
      user: user ?? '',
      body: request,
      signal: controller.signal,
    };
    reply = await options.requests.run({ contextId }, () => match.route.handle(routeRequest));
  } catch (error) {
    if (!(error instanceof DirectorError)) throw error;
    options.log.info('request refused', { method, path, code: error.code, message: error.message });
    reply = {
      kind: 'json',
      status: error.httpStatus,
      body: { code: error.code, description: error.message },
    };
  }
  await send(response, reply);
}

async function send(response: ServerResponse, reply: RouteReply): Promise<void> {
  switch (reply.kind) {
    case 'json': {
      const body = JSON.stringify(reply.body);
      response
        .writeHead(reply.status ?? 200, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        })
        .end(body);
      return;
    }
    case 'text':
      response
        .writeHead(reply.status ?? 200, {
          'Content-Type': reply.contentType ?? 'text/plain',
          'Content-Length': Buffer.byteLength(reply.body),
        })
        .end(reply.body);
      return;
    case 'empty':
      response.writeHead(reply.status, { 'Content-Length': 0 }).end();
      return;
    case 'task':
      response.writeHead(302, { Location: `/tasks/${reply.taskId}`, 'Content-Length': 0 }).end();
      return;
    case 'stream':
      response.writeHead(reply.status, reply.headers);
      try {
        await pipeline(reply.body, response);
      } catch {
        // The client went away mid-stream: nothing to answer any more.
        reply.body.destroy();
      }
      return;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
}
