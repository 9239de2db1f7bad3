import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { AgentError, AgentErrorCode } from '../errors.ts';

export interface HttpCall {
  readonly method: 'GET' | 'PUT';
  readonly url: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly ca?: string;
  readonly body?: Readable;
  readonly signal: AbortSignal;
}

/** One HTTP(S) exchange with node's client (custom CA, streamed bodies, abortable). */
export function httpCall(call: HttpCall): Promise<IncomingMessage> {
  const url = new URL(call.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: call.method,
        headers: call.headers ?? {},
        signal: call.signal,
        ...(call.ca === undefined ? {} : { ca: call.ca }),
      },
      resolve,
    );
    req.on('error', (cause) =>
      reject(new AgentError(AgentErrorCode.BlobFetch, `${call.method} ${redact(url)} failed`, { cause })),
    );
    if (call.body) {
      call.body.on('error', (error) => req.destroy(error));
      call.body.pipe(req);
    } else {
      req.end();
    }
  });
}

/** A URL fit for an error message: no credentials, no query (signed URLs carry secrets there). */
export function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export async function drain(response: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of response) if (text.length < 512) text += String(chunk);
  return text.slice(0, 512);
}
