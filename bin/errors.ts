/**
 * Errors that mean "bad input, detected before any change" (exit 2): the policy, the arguments, the credentials.
 * Matched by name so that the CLI does not need to know every module's classes.
 */
const INPUT_ERRORS = new Set(['PolicyError', 'InputError', 'CredentialsError', 'EmulatorCliError', 'AllowedHostsError', 'ManifestError', 'NoticeError']);

export function isInputError(error: unknown): boolean {
  return error instanceof Error && INPUT_ERRORS.has(error.name);
}
