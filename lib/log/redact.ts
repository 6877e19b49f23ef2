import { types } from 'node:util';
import { isSecretHeader } from '../auth/secrets.js';

/** Field names whose values are never written, whatever they hold (and the credential headers, see lib/auth). */
const SENSITIVE_KEY = /^(token|password|sk|securitytoken|secret|secretstring|signature)$/i;
const MASK = '[REDACTED]';
const MIN_SECRET_LENGTH = 4;

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
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
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
