import type { z } from 'zod';
import { TaskAsRead } from '@refit/protocol';
import { DirectorBadResponseError, DirectorResponseError } from './errors.ts';
import type { HttpMethod, HttpsTransport, RequestBody, TransportResponse } from './https-transport.ts';

/** Statuses the stock CLI accepts as success. */
const successStatuses = new Set([200, 201, 204, 206, 302]);

export interface SendOptions {
  readonly body?: RequestBody;
  readonly headers?: Readonly<Record<string, string>>;
  /** Statuses the caller handles itself (e.g. 404 for an optional endpoint, 416 for task output). */
  readonly allowStatuses?: readonly number[];
}

/**
 * The director's HTTP API, BOSH's behaviour: success statuses, `{"code","description"}` errors as
 * typed errors, 302 to `/tasks/<id>` for long operations. Endpoint helpers live beside it
 * (stemcells.ts, tasks.ts, ...).
 */
export class DirectorClient {
  private readonly transport: HttpsTransport;

  constructor(transport: HttpsTransport) {
    this.transport = transport;
  }

  get url(): string {
    return this.transport.baseUrl.origin;
  }

  get hasCredentials(): boolean {
    return this.transport.hasCredentials;
  }

  async send(
    method: HttpMethod,
    path: string,
    signal: AbortSignal,
    options: SendOptions = {},
  ): Promise<TransportResponse> {
    const response = await this.transport.request({
      method,
      path,
      signal,
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    if (!successStatuses.has(response.status) && !(options.allowStatuses ?? []).includes(response.status)) {
      throw new DirectorResponseError(response.status, response.body.toString('utf8'));
    }
    return response;
  }

  /** GET (or another method) answering JSON, parsed with a protocol schema. */
  async json<T>(
    path: string,
    schema: z.ZodType<T>,
    signal: AbortSignal,
    options: SendOptions & { readonly method?: HttpMethod } = {},
  ): Promise<T> {
    const response = await this.send(options.method ?? 'GET', path, signal, options);
    return parseJson(response, schema, `${options.method ?? 'GET'} ${path}`);
  }

  /**
   * A request that starts a task: the director answers 302 `Location: /tasks/<id>` (or, as the
   * stock CLI also accepts, 200 with the task JSON). Returns the task id.
   */
  async startTask(
    method: HttpMethod,
    path: string,
    signal: AbortSignal,
    body?: RequestBody,
  ): Promise<number> {
    const response = await this.send(method, path, signal, body === undefined ? {} : { body });
    if (response.status === 302) {
      const location = response.headers.location ?? '';
      const match = /\/tasks\/(\d+)\/?$/.exec(new URL(location, this.transport.baseUrl).pathname);
      if (match?.[1] !== undefined) return Number(match[1]);
      // Not a task: follow the redirect with a GET, as the stock CLI does, and expect a task.
      const followed = await this.send('GET', new URL(location, this.transport.baseUrl).pathname, signal);
      return parseJson(followed, TaskAsRead, `GET ${location}`).id;
    }
    return parseJson(response, TaskAsRead, `${method} ${path}`).id;
  }

  close(): void {
    this.transport.close();
  }
}

export function parseJson<T>(response: TransportResponse, schema: z.ZodType<T>, what: string): T {
  let document: unknown;
  try {
    document = JSON.parse(response.body.toString('utf8'));
  } catch (error) {
    throw new DirectorBadResponseError(`Unmarshaling Director response to ${what}: not JSON`, {
      cause: error,
    });
  }
  const parsed = schema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw new DirectorBadResponseError(
      `Unmarshaling Director response to ${what}${where}: ${issue?.message ?? 'unexpected shape'}`,
    );
  }
  return parsed.data;
}

/** `?a=1&b=2` from defined values only (empty string values are kept: BOSH uses `name=`). */
export function query(params: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) search.append(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
