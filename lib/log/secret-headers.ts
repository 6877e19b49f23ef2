/** Headers that carry credentials: the logger never writes their values, and the HTTP layer never logs them. */
export const SECRET_HEADER_NAMES: readonly string[] = ['authorization', 'x-auth-token', 'x-security-token', 'x-subject-token'];

/** True for a header name in SECRET_HEADER_NAMES, in any case. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER_NAMES.includes(name.toLowerCase());
}
