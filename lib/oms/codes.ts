/**
 * The OMS and API Gateway answers the janitor reads a meaning into, in one place. Codes and meanings are from
 * Huawei's OMS API reference (error codes), its Python SDK, and its Terraform provider (which retries OMS.0063 and
 * treats a 404 on show as deleted); docs/behaviour.md lists them with what the janitor does.
 */
import { HttpError } from '../http/errors.js';

/** 400: "no resources found": the item does not exist. */
export const NOT_FOUND = 'OMS.1009';
/** 400 to a delete: the item is in progress (pause it first); also answered for a moment after a pause. */
export const IN_PROGRESS = 'OMS.0063';
/** 400 to a pause: the item is not running (a task not migrating, a group not monitoring). */
export const NOT_PAUSABLE = 'OMS.0066';
/** 404: API Gateway has no such API (a wrong path, method or endpoint), not a missing item. */
export const NO_SUCH_API = 'APIGW.0101';

/**
 * The item no longer exists: 400 OMS.1009, or a 404 other than APIGW.0101 (Huawei documents no code for a missing
 * group or sync task; Terraform reads a 404 as deleted). A 404 APIGW.0101 says the API itself does not exist (a
 * wrong endpoint): a failure, never counted as deleted.
 */
export function isAlreadyGone(error: HttpError): boolean {
  if (error.status === 400) return error.errorCode === NOT_FOUND;
  return error.status === 404 && error.errorCode !== NO_SUCH_API;
}

/** A delete refused as "in progress" (400 OMS.0063). */
export function isInProgressRefusal(error: unknown): error is HttpError {
  return error instanceof HttpError && error.status === 400 && error.errorCode === IN_PROGRESS;
}

/** A pause refused as "not running now" (400 OMS.0066): never a failure by itself; the item is looked at again. */
export function isNotPausable(error: unknown): error is HttpError {
  return error instanceof HttpError && error.status === 400 && error.errorCode === NOT_PAUSABLE;
}

/**
 * Codes the janitor has met in Huawei's documentation and knows what to do with. An answer with any other code is
 * logged once more under one fixed message (`unfamiliar OMS answer`), so that the first runs against a real account
 * show at a glance what no document foretold.
 */
const FAMILIAR = new Set([
  NOT_FOUND,
  IN_PROGRESS,
  NOT_PAUSABLE,
  NO_SUCH_API,
  'OMS.0054', // invalid task id
  'OMS.0064', // invalid request parameters
  'OMS.0001',
  'OMS.0002',
  'APIGW.0301', // incorrect IAM authentication information
  'APIGW.0307', // the token must be updated
  'APIGW.0306', // API access denied
  'APIGW.0308', // throttled
]);

/** An HTTP error answer whose code no Huawei document the janitor was built from names (or that has no code). */
export function isUnfamiliarAnswer(error: unknown): error is HttpError {
  if (!(error instanceof HttpError) || error.status < 400) return false;
  // 5xx and 429 are retried and mean what HTTP says whatever their body.
  if (error.status >= 500 || error.status === 429) return false;
  return !FAMILIAR.has(error.errorCode ?? '');
}
