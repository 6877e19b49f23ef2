import { InvalidInput } from '../errors.js';

/**
 * The two failures of the credentials layer. Neither message ever contains a secret value (token, SK, password,
 * security token); both keep the underlying error as `cause` when there is one.
 */

/** Bad or unreadable credentials configuration, detected before any OMS call (CLI exit status 2). */
export class CredentialsError extends InvalidInput {
  override name = 'CredentialsError';
  /** The secret id, or the environment variable(s), the problem is in. */
  readonly source: string | undefined;
  /** The offending field or environment variable, when one is to blame. */
  readonly field: string | undefined;

  constructor(message: string, context: { source?: string; field?: string; cause?: unknown } = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.source = context.source;
    this.field = context.field;
  }
}

/** Could not obtain an IAM token (wrong password, IAM unreachable, unusable answer). */
export class AuthError extends Error {
  override name = 'AuthError';
  readonly projectId: string;
  /** HTTP status of IAM's answer, when there was one. */
  readonly status: number | undefined;
  readonly errorCode: string | undefined;

  constructor(message: string, context: { projectId: string; status?: number; errorCode?: string; cause?: unknown }) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.projectId = context.projectId;
    this.status = context.status;
    this.errorCode = context.errorCode;
  }
}
