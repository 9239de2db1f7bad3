/** Keys whose values never reach a log: passwords, secrets, private keys, tokens, credentials. */
const SECRET_KEY = /password|secret|private_key|token|credentials|key$/i;

export const REDACTED = '<redacted>';

/** `scheme://user:password@`: the password of a URL carried in a string value (e.g. mbus URLs). */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi;

/**
 * A copy of `value` with every object property whose key looks secret replaced by
 * `"<redacted>"`, and every URL password in a string (`nats://agent-…:<redacted>@…`, such as
 * `env.bosh.mbus.urls`), at any depth (arrays included). Used for the `cpi` log's request lines.
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) ? REDACTED : redactSecrets(inner);
    }
    return out;
  }
  if (typeof value === 'string') return value.replace(URL_PASSWORD, `$1${REDACTED}@`);
  return value;
}
