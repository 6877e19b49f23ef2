import { z } from 'zod';
import { normaliseEndpoint } from '../http/endpoint.js';
import { CredentialsError } from './errors.js';
import type { Credentials } from './types.js';

/**
 * The SecretString shapes of the README's "Credentials", validated strictly (unknown fields are errors).
 * Messages are built here from zod's issue paths and codes, never from zod's own texts, because those may quote
 * the input ("received ...") and the input is a secret.
 */

export const CREDENTIAL_TYPES = ['token', 'aksk', 'password'] as const;

/** Used in a header or as an HMAC key: a pasted newline or space would fail late and obscurely, so refuse it here. */
const headerSafe = z
  .string()
  .min(1)
  .refine((v) => v === v.trim() && !/[\u0000-\u001f\u007f]/.test(v), { params: { rule: 'header-safe' } });
const nonEmpty = z.string().min(1);
// The same base-URL rule as a policy's OMS endpoint: https, or http on loopback only; no path, query or user info.
const iamEndpoint = z
  .string()
  .refine((v) => normaliseEndpoint(v).ok, { params: { rule: 'https' } })
  .transform((v) => {
    const result = normaliseEndpoint(v);
    return result.ok ? result.endpoint : v;
  });

const schema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('token'), token: headerSafe }),
  z.strictObject({ type: z.literal('aksk'), ak: headerSafe, sk: headerSafe, securityToken: headerSafe.optional() }),
  z.strictObject({
    type: z.literal('password'),
    domain: nonEmpty,
    username: nonEmpty,
    password: nonEmpty,
    iamEndpoint: iamEndpoint.optional(),
  }),
]);

/** Parses a Secrets Manager SecretString into Credentials; a CredentialsError names what is wrong, never a value. */
export function parseCredentialsSecret(secretString: string, secretId: string): Credentials {
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    // The SyntaxError quotes the text, so it is not kept as cause.
    throw new CredentialsError(`secret "${secretId}" is not JSON`, { source: secretId });
  }
  return validateCredentials(value, `secret "${secretId}"`, (field) => `field "${field}"`, secretId);
}

/**
 * Validates an already-built credentials object. `where` prefixes messages (`secret "prod/oms"`), `describe` names
 * a field in them (`field "sk"`, or an environment variable for the CLI).
 */
export function validateCredentials(
  value: unknown,
  where: string,
  describe: (field: string) => string,
  source: string,
): Credentials {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CredentialsError(`${where} must be a JSON object`, { source });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data as Credentials;
  const input = value as Record<string, unknown>;
  const problems = result.error.issues.map((issue) => describeIssue(issue, input, describe));
  const fields = problems.flatMap((p) => (p.field === undefined ? [] : [p.field]));
  throw new CredentialsError(`${where}: ${problems.map((p) => p.what).join('; ')}`, {
    source,
    ...(fields[0] === undefined ? {} : { field: fields[0] }),
  });
}

/** One zod issue as words; only field names, codes and our own rule names are used, never the input's values. */
function describeIssue(
  issue: z.core.$ZodIssue,
  input: Record<string, unknown>,
  describe: (field: string) => string,
): { what: string; field?: string } {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const more = issue.keys.length > 1 ? ` (and ${issue.keys.length - 1} more)` : '';
    const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
    return { what: `${describe(shown)} is not allowed for type "${String(input.type)}"${more}`, field: key };
  }
  const field = issue.path.length > 0 ? String(issue.path[0]) : undefined;
  if (field === undefined) return { what: 'is invalid' };
  const name = describe(field);
  if (field === 'type') {
    const types = CREDENTIAL_TYPES.join(', ');
    return { what: 'type' in input ? `${name} must be one of ${types}` : `${name} is missing (one of ${types})`, field };
  }
  if (!(field in input) || input[field] === undefined) return { what: `${name} is missing`, field };
  if (issue.code === 'invalid_type') return { what: `${name} must be a string`, field };
  if (issue.code === 'too_small') return { what: `${name} must not be empty`, field };
  const rule = issue.code === 'custom' ? (issue.params as { rule?: string } | undefined)?.rule : undefined;
  if (rule === 'header-safe') return { what: `${name} must not have surrounding whitespace or control characters`, field };
  if (rule === 'https') return { what: `${name} must be a base URL such as https://iam.cn-north-4.myhuaweicloud.com (http:// only on 127.0.0.1, localhost or [::1]; no path or query)`, field };
  return { what: `${name} is invalid`, field };
}
