import { InvalidInput } from '../lib/errors.js';

/** Bad input, detected before any change (exit 2): the policy, the arguments, the credentials, a manifest or a notice. */
export function isInputError(error: unknown): error is InvalidInput {
  return error instanceof InvalidInput;
}
