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
    for (const secret of this.#secrets) out = maskSecret(out, secret);
    // Signed requests: the signature in an Authorization header value is as good as the key for 15 minutes.
    return out.replace(/(Signature=)[0-9a-f]{16,}/gi, `$1${MASK}`).replace(/(X-Auth-Token:\s*)\S+/gi, `$1${MASK}`);
  }

  value(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object' || depth > 8) return value;
    if (types.isNativeError(value)) return this.error(value);
    if (Array.isArray(value)) return value.map((item) => this.value(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = SENSITIVE_KEY.test(key) || isSecretHeader(key) ? MASK : this.value(item, depth + 1);
    return out;
  }

  /** An error as a loggable object: name, redacted message, and the causes' messages. */
  error(error: Error): Record<string, unknown> {
    const out: Record<string, unknown> = { name: error.name, message: this.text(error.message) };
    if (types.isNativeError(error.cause)) out.cause = this.error(error.cause);
    return out;
  }
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
