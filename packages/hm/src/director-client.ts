import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { z } from 'zod';
import {
  HmConfigListItem,
  HmDeploymentListItem,
  HmInstanceListItem,
  ResurrectionState,
  TaskAsRead,
  type HmEventBody,
  type ScanAndFixBody,
} from '@refit/protocol';

/** The director as the monitor uses it (reference §1.8, §1.9, §1.11, §1.3). */
export interface DirectorApi {
  listDeployments(signal: AbortSignal): Promise<HmDeploymentListItem[]>;
  listInstances(deployment: string, signal: AbortSignal): Promise<HmInstanceListItem[]>;
  /** Tasks queued or processing for a deployment (every type: `verbose=2`). */
  activeTasks(deployment: string, signal: AbortSignal): Promise<TaskAsRead[]>;
  scanAndFix(deployment: string, body: ScanAndFixBody, signal: AbortSignal): Promise<ScanAndFixAnswer>;
  /** `POST /events`: false when the director has no such route. */
  createEvent(body: HmEventBody, signal: AbortSignal): Promise<boolean>;
  /** `GET /resurrection` (`bosh update-resurrection`): null when the director has no such route. */
  resurrectionPaused(signal: AbortSignal): Promise<boolean | null>;
  /** Latest `resurrection` configs, or null when the director has no configs route. */
  resurrectionConfigs(signal: AbortSignal): Promise<HmConfigListItem[] | null>;
}

export type ScanAndFixAnswer =
  | { readonly kind: 'queued'; readonly taskId: number | null }
  | { readonly kind: 'refused'; readonly status: number; readonly body: string };

/** The director answered something the monitor cannot use (status, or a body off schema). */
export class DirectorResponseError extends Error {
  readonly code = 'hm.director_response';
  readonly status: number;
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DirectorResponseError';
    this.status = status;
  }
}

export interface HttpsDirectorClientOptions {
  /** `https://127.0.0.1:25555` (http only for tests). */
  readonly url: string;
  readonly caPem: string | null;
  readonly user: string;
  readonly password: string;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
}

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

const MAX_BODY = 64 * 1024 * 1024;

/** The monitor's own small director client: basic auth, one CA, bounded requests. */
export class HttpsDirectorClient implements DirectorApi {
  readonly #base: URL;
  readonly #options: HttpsDirectorClientOptions;
  readonly #auth: string;

  constructor(options: HttpsDirectorClientOptions) {
    this.#base = new URL(options.url);
    this.#options = options;
    this.#auth = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  }

  async listDeployments(signal: AbortSignal): Promise<HmDeploymentListItem[]> {
    const path = '/deployments?exclude_configs=true&exclude_releases=true&exclude_stemcells=true';
    return this.#json('GET', path, z.array(HmDeploymentListItem), signal);
  }

  async listInstances(deployment: string, signal: AbortSignal): Promise<HmInstanceListItem[]> {
    return this.#json(
      'GET',
      `/deployments/${encodeURIComponent(deployment)}/instances`,
      z.array(HmInstanceListItem),
      signal,
    );
  }

  async activeTasks(deployment: string, signal: AbortSignal): Promise<TaskAsRead[]> {
    const query = new URLSearchParams({ deployment, state: 'queued,processing', verbose: '2' });
    return this.#json('GET', `/tasks?${query.toString()}`, z.array(TaskAsRead), signal);
  }

  async scanAndFix(deployment: string, body: ScanAndFixBody, signal: AbortSignal): Promise<ScanAndFixAnswer> {
    const path = `/deployments/${encodeURIComponent(deployment)}/scan_and_fix`;
    const answer = await this.#send('PUT', path, JSON.stringify(body), signal);
    if (answer.status === 302 || answer.status === 200 || answer.status === 201 || answer.status === 204) {
      const location = answer.headers.location;
      const match = typeof location === 'string' ? /\/tasks\/(\d+)$/.exec(location) : null;
      return { kind: 'queued', taskId: match?.[1] === undefined ? null : Number(match[1]) };
    }
    return { kind: 'refused', status: answer.status, body: answer.body.slice(0, 2000) };
  }

  async createEvent(body: HmEventBody, signal: AbortSignal): Promise<boolean> {
    const answer = await this.#send('POST', '/events', JSON.stringify(body), signal);
    if (answer.status === 404 || answer.status === 405) return false;
    if (answer.status >= 200 && answer.status < 300) return true;
    throw new DirectorResponseError(
      `POST /events: status ${answer.status}: ${answer.body.slice(0, 500)}`,
      answer.status,
    );
  }

  async resurrectionPaused(signal: AbortSignal): Promise<boolean | null> {
    const answer = await this.#send('GET', '/resurrection', null, signal);
    if (answer.status === 404) return null;
    return this.#parse('GET /resurrection', answer, ResurrectionState).resurrection_paused;
  }

  async resurrectionConfigs(signal: AbortSignal): Promise<HmConfigListItem[] | null> {
    const answer = await this.#send('GET', '/configs?type=resurrection&latest=true', null, signal);
    if (answer.status === 404) return null;
    return this.#parse('GET /configs', answer, z.array(HmConfigListItem));
  }

  async #json<T>(method: string, path: string, schema: z.ZodType<T>, signal: AbortSignal): Promise<T> {
    return this.#parse(`${method} ${path}`, await this.#send(method, path, null, signal), schema);
  }

  #parse<T>(what: string, answer: RawAnswer, schema: z.ZodType<T>): T {
    if (answer.status !== 200) {
      throw new DirectorResponseError(
        `${what}: status ${answer.status}: ${answer.body.slice(0, 500)}`,
        answer.status,
      );
    }
    let data: unknown;
    try {
      data = JSON.parse(answer.body);
    } catch (error) {
      throw new DirectorResponseError(`${what}: body is not JSON`, answer.status, { cause: error });
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new DirectorResponseError(`${what}: unexpected body: ${parsed.error.message}`, answer.status);
    }
    return parsed.data;
  }

  #send(method: string, path: string, body: string | null, signal: AbortSignal): Promise<RawAnswer> {
    const url = new URL(path, this.#base);
    const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? 10_000);
    const combined = AbortSignal.any([signal, timeout]);
    const headers: Record<string, string> = { authorization: this.#auth, accept: 'application/json' };
    if (body !== null) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<RawAnswer>((resolve, reject) => {
      const req = requestFn(
        url,
        {
          method,
          headers,
          signal: combined,
          ...(url.protocol === 'https:' && this.#options.caPem !== null ? { ca: this.#options.caPem } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY) {
              req.destroy(
                new DirectorResponseError(
                  `${method} ${path}: body over ${MAX_BODY} bytes`,
                  res.statusCode ?? 0,
                ),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', (error) =>
        reject(
          timeout.aborted && !signal.aborted
            ? new Error(`${method} ${path}: timed out`, { cause: error })
            : error,
        ),
      );
      req.end(body ?? undefined);
    });
  }
}
