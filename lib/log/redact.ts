import { types } from 'node:util';
import { isSecretHeader } from './secret-headers.js';

/** Field names whose values are never written, whatever they hold (and the credential headers, see lib/auth). */
const SENSITIVE_KEY = /^(token|password|sk|securitytoken|secret|secretstring|signature)$/i;
const MASK = '[REDACTED]';
const MIN_SECRET_LENGTH = 4;
/**
 * A server may echo a secret cut short (an error_msg limited to N characters), and so do our own cuts (500
 * characters of error_msg, 40 of a name in a table): any run of at least this many leading characters of a secret
 * is masked too. 12 characters of a token or key do not occur in other text by chance.
 */
const MIN_PREFIX_LENGTH = 12;

/**
 * Removes secrets from anything about to be logged, returned or thrown across the boundary: known secret values
 * (registered when credentials are loaded) wherever they appear inside strings, and every value under a sensitive
 * field name. One instance per process; the CLI and the Lambda register what they load.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Remember values that must never be written (tokens, SKs, passwords). Very short values are ignored. */
  add(...values: Array<string | undefined>): void {
    for (const value of values) if (value && value.length >= MIN_SECRET_LENGTH) this.#secrets.add(value);
  }

  text(value: string): string {
    let out = value;
    // A text shorter than a secret's first MIN_PREFIX_LENGTH characters (or the whole secret) cannot hold any of it:
    // most logged values (ids, statuses, rule names) are, and skip the search.
    for (const secret of this.#secrets) if (out.length >= Math.min(secret.length, MIN_PREFIX_LENGTH)) out = maskSecret(out, secret);
    // Signed requests: the signature in an Authorization header value is as good as the key for 15 minutes. Both
    // patterns need more characters than most values have, and one test tells whether either could be there.
    if (out.length < SHORTEST_HEADER_SECRET || !HEADER_SECRET.test(out)) return out;
    return out.replace(/(Signature=)[0-9a-f]{16,}/gi, `$1${MASK}`).replace(/(X-Auth-Token:\s*)\S+/gi, `$1${MASK}`);
  }

  value(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object' || depth > 8) return value;
    if (types.isNativeError(value)) return this.error(value);
    if (Array.isArray(value)) return value.map((item) => this.value(item, depth + 1));
    return this.into({}, value as Record<string, unknown>, depth);
  }

  /** `source`'s own fields copied into `target`, each redacted as `value` redacts it (a log line built in one object). */
  into(target: Record<string, unknown>, source: Record<string, unknown>, depth = 0): Record<string, unknown> {
    for (const key in source) {
      if (!Object.hasOwn(source, key)) continue;
      target[key] = sensitiveKey(key) ? MASK : this.value(source[key], depth + 1);
    }
    return target;
  }

  /** An error as a loggable object: name, redacted message, and the causes' messages. */
  error(error: Error): Record<string, unknown> {
    const out: Record<string, unknown> = { name: error.name, message: this.text(error.message) };
    if (types.isNativeError(error.cause)) out.cause = this.error(error.cause);
    return out;
  }
}

/** What the two header patterns in Redactor.text need at least: `X-Auth-Token:` and one character. */
const SHORTEST_HEADER_SECRET = 'X-Auth-Token:'.length + 1;
const HEADER_SECRET = /signature=|x-auth-token:/i;

/** Whether a field's value is never written: sensitive names and credential headers (answers cached: few keys). */
const sensitiveKeys = new Map<string, boolean>();
function sensitiveKey(key: string): boolean {
  let known = sensitiveKeys.get(key);
  if (known === undefined) {
    known = SENSITIVE_KEY.test(key) || isSecretHeader(key);
    if (sensitiveKeys.size < 10_000) sensitiveKeys.set(key, known);
  }
  return known;
}

/** `text` with every occurrence of `secret`, and of any prefix of it of MIN_PREFIX_LENGTH or more, masked. */
function maskSecret(text: string, secret: string): string {
  // Whole occurrences first: a secret that repeats its own start would otherwise be masked as two prefixes, and
  // the tail after the second one left showing.
  if (text.includes(secret)) text = text.split(secret).join(MASK);
  const head = secret.length > MIN_PREFIX_LENGTH ? secret.slice(0, MIN_PREFIX_LENGTH) : secret;
  let at = text.indexOf(head);
  if (at < 0) return text;
  let out = '';
  let from = 0;
  while (at >= 0) {
    // Extend the match as far as the text goes on agreeing with the secret.
    let end = at + head.length;
    while (end - at < secret.length && end < text.length && text[end] === secret[end - at]) end += 1;
    out += text.slice(from, at) + MASK;
    from = end;
    at = text.indexOf(head, end);
  }
  return out + text.slice(from);
}
