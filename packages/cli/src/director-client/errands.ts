import { z } from 'zod';
import { ErrandListEntry, ErrandRunResultLine, type ErrandRunRequest } from '@refit/protocol';
import { DirectorBadResponseError } from './errors.ts';
import type { DirectorClient } from './director-client.ts';

const errandsPath = (deployment: string) => `/deployments/${encodeURIComponent(deployment)}/errands`;

/** `GET /deployments/<d>/errands`: the errand names of the deployment. */
export function listErrands(
  client: DirectorClient,
  deployment: string,
  signal: AbortSignal,
): Promise<ErrandListEntry[]> {
  return client.json(errandsPath(deployment), z.array(ErrandListEntry), signal);
}

/** `POST /deployments/<d>/errands/<name>/runs` with `{keep_alive, when_changed, instances}`: the task id. */
export function startErrandRun(
  client: DirectorClient,
  deployment: string,
  name: string,
  request: ErrandRunRequest,
  signal: AbortSignal,
): Promise<number> {
  return client.startTask('POST', `${errandsPath(deployment)}/${encodeURIComponent(name)}/runs`, signal, {
    kind: 'bytes',
    contentType: 'application/json',
    data: JSON.stringify(request),
  });
}

/** The task result: one JSON document per line, one per instance the errand ran on. */
export function parseErrandResults(output: string): ErrandRunResultLine[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new DirectorBadResponseError('Unmarshaling errand result: not JSON', { cause: error });
      }
      const parsed = ErrandRunResultLine.safeParse(value);
      if (!parsed.success)
        throw new DirectorBadResponseError(
          `Unmarshaling errand result: ${parsed.error.issues[0]?.message ?? ''}`,
        );
      return parsed.data;
    });
}
