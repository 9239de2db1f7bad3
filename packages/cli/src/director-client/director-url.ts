import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.ts';

const defaultPort = '25555';

/**
 * The director's base URL as the stock CLI builds it: always `https` (an `http://` URL is rewritten),
 * port 25555 when none is given. A bare `host[:port]` is accepted too.
 */
export function normaliseDirectorUrl(raw: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`Invalid director URL '${raw}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`Invalid director URL '${raw}': expected https`);
  }
  const port = url.port === '' ? defaultPort : url.port;
  return new URL(`https://${url.hostname}:${port}`);
}

/** `https://host:port` without a trailing slash: how environments are shown and stored. */
export function displayUrl(url: URL): string {
  return url.origin;
}

/** `--ca-cert` / `BOSH_CA_CERT` / `ca_cert`: inline PEM, or the path of a PEM file. */
export async function loadCaCert(value: string): Promise<string> {
  if (value.includes('-----BEGIN')) return value;
  try {
    return await readFile(value, 'utf8');
  } catch (error) {
    throw new UsageError(`Reading CA certificate '${value}': ${(error as Error).message}`);
  }
}
