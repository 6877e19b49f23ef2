import { createHash } from 'node:crypto';
import type { Exchange } from './http-util.js';
import { headerValue, send } from './http-util.js';

const TARGET_PREFIX = 'secretsmanager.';
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
/** CreatedDate of every emulated secret: fixed, so answers are reproducible. */
const CREATED_EPOCH_SECONDS = 1_700_000_000;

/** True when this request is meant for Secrets Manager (AWS JSON 1.1: POST / with X-Amz-Target). */
export function isSecretsManagerRequest(ex: Exchange): boolean {
  return ex.req.method === 'POST' && ex.url.pathname === '/' && (headerValue(ex.req, 'x-amz-target') ?? '').startsWith(TARGET_PREFIX);
}

/** Secrets by name or ARN. A secret stored by name can also be fetched by the ARN this store reports for it. */
export class SecretStore {
  private readonly secrets = new Map<string, string>();
  private readonly denied: Set<string>;

  constructor(secrets: Record<string, string> = {}, denied: readonly string[] = []) {
    for (const [id, value] of Object.entries(secrets)) this.secrets.set(id, value);
    this.denied = new Set(denied);
  }

  set(id: string, value: string): void {
    this.secrets.set(id, value);
  }

  /** The stored key this SecretId resolves to, or undefined. */
  resolve(secretId: string): string | undefined {
    if (this.secrets.has(secretId) || this.denied.has(secretId)) return secretId;
    for (const key of [...this.secrets.keys(), ...this.denied]) if (arnFor(key) === secretId) return key;
    return undefined;
  }

  isDenied(key: string): boolean {
    return this.denied.has(key);
  }

  get(key: string): string | undefined {
    return this.secrets.get(key);
  }
}

/** Real ARNs end in a dash and six random characters; here they are derived from the name so they are stable. */
export function arnFor(key: string): string {
  if (key.startsWith('arn:')) return key;
  const suffix = createHash('sha256').update(key).digest('base64url').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 6);
  return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${key}-${suffix}`;
}

function nameFor(key: string): string {
  if (!key.startsWith('arn:')) return key;
  const name = key.slice(key.indexOf(':secret:') + ':secret:'.length);
  return /-[A-Za-z0-9]{6}$/.test(name) ? name.slice(0, -7) : name;
}

function sendAwsError(ex: Exchange, status: number, type: string, message: string): void {
  send(ex, status, JSON.stringify({ __type: type, message }), 'application/x-amz-json-1.1', {
    'x-amzn-ErrorType': type,
    'x-amzn-RequestId': ex.requestId,
  });
}

/** Only GetSecretValue is served; SigV4 signatures are not checked (any credentials are accepted). */
export function handleSecretsManager(ex: Exchange, store: SecretStore): void {
  const target = headerValue(ex.req, 'x-amz-target') ?? '';
  if (target !== 'secretsmanager.GetSecretValue') {
    return sendAwsError(ex, 400, 'UnknownOperationException', `The emulator does not implement ${target}.`);
  }
  let secretId: unknown;
  try {
    secretId = (JSON.parse(ex.body.toString('utf8')) as { SecretId?: unknown }).SecretId;
  } catch {
    return sendAwsError(ex, 400, 'SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof secretId !== 'string' || secretId === '') {
    return sendAwsError(ex, 400, 'ValidationException', "1 validation error detected: Value at 'secretId' failed to satisfy constraint: Member must not be null");
  }
  const key = store.resolve(secretId);
  if (key !== undefined && store.isDenied(key)) {
    return sendAwsError(ex, 400, 'AccessDeniedException', `User is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretId}`);
  }
  const value = key === undefined ? undefined : store.get(key);
  if (key === undefined || value === undefined) {
    return sendAwsError(ex, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }
  const body = {
    ARN: arnFor(key),
    Name: nameFor(key),
    SecretString: value,
    VersionId: createHash('sha256').update(value).digest('hex').slice(0, 32).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'),
    VersionStages: ['AWSCURRENT'],
    CreatedDate: CREATED_EPOCH_SECONDS,
  };
  send(ex, 200, JSON.stringify(body), 'application/x-amz-json-1.1', { 'x-amzn-RequestId': ex.requestId });
}
