import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { functionHome } from '../aws/function-arn.js';

/**
 * Where a run's archive goes: a local directory or `s3://BUCKET/PREFIX` (ROOT). Keys are `/`-separated paths below
 * the root (`runs/2026/12/04/<runId>/plan.json.gz`). Writes are whole or absent: a local file is written beside its
 * place and renamed into it; an S3 object is one PutObject.
 */
export interface ArchiveStore {
  /** The root as the operator wrote it, for messages. */
  readonly root: string;
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** The object with its version tag (S3's ETag, a local file's content hash), or undefined. */
  getTagged(key: string): Promise<{ body: Buffer; etag: string } | undefined>;
  /**
   * Writes only if the object is still as last read: `ifMatch` its tag, or `ifNoneMatch` (it must not exist). Resolves
   * to the new tag; rejects with a PreconditionFailed when another writer came first (S3's conditional writes; the
   * local store holds a lock file while it compares and writes).
   */
  putIf(key: string, body: Uint8Array, contentType: string, condition: { ifMatch: string } | { ifNoneMatch: true }): Promise<string>;
  /** Every key below `prefix` (itself a key prefix, such as `runs/2026/`), in no particular order. */
  list(prefix: string): Promise<string[]>;
}

/** The archive root could not be used (a malformed `s3://` root, an unreadable directory). */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

/** A local lock file older than this was left by a process that died while writing. */
const STALE_LOCK_MS = 60_000;

/** A conditional write lost: the object changed (or appeared) since it was read. */
export class PreconditionFailed extends Error {
  override name = 'PreconditionFailed';
}

/**
 * A root as serverless.yml gives it, `{account}` and `{region}` completed from the function's own ARN (the stage's
 * bucket is named after them: bucket names are global). A root without them is returned as it is.
 */
export function archiveRootFor(template: string, invokedFunctionArn: string | undefined): string {
  if (!/\{(account|region)\}/.test(template)) return template;
  const home = functionHome(invokedFunctionArn);
  if (home === undefined) {
    throw new ArchiveError(`ARCHIVE_ROOT ${JSON.stringify(template)} names {account} or {region}, which only a deployed function completes; outside Lambda give a full root (a directory or s3://BUCKET/PREFIX)`);
  }
  return template.replace(/\{account\}/g, home.account).replace(/\{region\}/g, home.region);
}

/** `s3://BUCKET/PREFIX` or a directory. */
export function openArchiveStore(root: string, options: { s3?: S3Client } = {}): ArchiveStore {
  if (root.startsWith('s3://')) {
    const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(root);
    if (!match) throw new ArchiveError(`archive root ${JSON.stringify(root)}: expected s3://BUCKET or s3://BUCKET/PREFIX with a valid bucket name`);
    const prefix = (match[2] ?? '').replace(/\/+$/, '');
    return new S3Store(root, match[1]!, prefix === '' ? '' : `${prefix}/`, options.s3);
  }
  if (root.trim() === '') throw new ArchiveError('archive root is empty');
  return new LocalStore(root);
}

class LocalStore implements ArchiveStore {
  readonly #dir: string;

  constructor(readonly root: string) {
    this.#dir = resolve(root);
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const file = this.#file(key);
    await mkdir(dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, body, { mode: 0o600 });
    await rename(temporary, file);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.#file(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async getTagged(key: string): Promise<{ body: Buffer; etag: string } | undefined> {
    const body = await this.get(key);
    return body === undefined ? undefined : { body, etag: contentTag(body) };
  }

  async putIf(key: string, body: Uint8Array, contentType: string, condition: { ifMatch: string } | { ifNoneMatch: true }): Promise<string> {
    const file = this.#file(key);
    await mkdir(dirname(file), { recursive: true });
    // One writer at a time between the comparison and the rename: the lock file is created exclusively.
    const lock = `${file}.lock`;
    let handle;
    try {
      handle = await open(lock, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A write takes milliseconds: a lock older than a minute was left by a process that died holding it.
      const info = await stat(lock).catch(() => undefined);
      if (info === undefined || Date.now() - info.mtimeMs < STALE_LOCK_MS) throw new PreconditionFailed(`${key} is being written by another run (${lock} exists)`);
      await rm(lock, { force: true });
      handle = await open(lock, 'wx').catch(() => {
        throw new PreconditionFailed(`${key} is being written by another run (${lock} exists)`);
      });
    }
    try {
      const current = await this.getTagged(key);
      const holds = 'ifNoneMatch' in condition ? current === undefined : current?.etag === condition.ifMatch;
      if (!holds) throw new PreconditionFailed(`${key} changed since it was read`);
      await this.put(key, body);
      return contentTag(Buffer.from(body));
    } finally {
      await handle.close();
      await rm(lock, { force: true });
    }
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.#file(prefix.replace(/\/+$/, '') || '.');
    let entries: string[];
    try {
      entries = (await readdir(base, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return entries.filter((file) => !file.endsWith('.tmp') && !file.endsWith('.lock')).map((file) => relative(this.#dir, file).split(sep).join('/'));
  }

  #file(key: string): string {
    // Keys are made here (run ids, dates, fixed names); a key that climbs out of the root is a bug, not an input.
    const file = resolve(this.#dir, key);
    if (file !== this.#dir && !file.startsWith(this.#dir + sep)) throw new ArchiveError(`archive key ${JSON.stringify(key)} is outside the root`);
    return file;
  }
}

type S3Sdk = typeof import('@aws-sdk/client-s3');
let sdk: Promise<S3Sdk> | undefined;

/** Loaded on first use, like the Secrets Manager client: a dry run or a refused invocation never pays for it. */
function loadSdk(): Promise<S3Sdk> {
  sdk ??= import('@aws-sdk/client-s3');
  return sdk;
}

let defaultClient: S3Client | undefined;

/**
 * One client per process. With AWS_ENDPOINT_URL_S3 set (the emulator, a private endpoint), path-style addressing:
 * `http://127.0.0.1:8790/BUCKET/KEY`, since a loopback address has no bucket subdomains.
 */
async function defaultS3Client(): Promise<S3Client> {
  const { S3Client } = await loadSdk();
  defaultClient ??= new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
  return defaultClient;
}

class S3Store implements ArchiveStore {
  constructor(
    readonly root: string,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly client: S3Client | undefined,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    const { PutObjectCommand } = await loadSdk();
    await (await this.#client()).send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: body, ContentType: contentType }));
  }

  async get(key: string): Promise<Buffer | undefined> {
    const { GetObjectCommand, NoSuchKey } = await loadSdk();
    try {
      const answer = await (await this.#client()).send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return Buffer.from(await answer.Body!.transformToByteArray());
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async getTagged(key: string): Promise<{ body: Buffer; etag: string } | undefined> {
    const { GetObjectCommand, NoSuchKey } = await loadSdk();
    try {
      const answer = await (await this.#client()).send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return { body: Buffer.from(await answer.Body!.transformToByteArray()), etag: answer.ETag ?? '' };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async putIf(key: string, body: Uint8Array, contentType: string, condition: { ifMatch: string } | { ifNoneMatch: true }): Promise<string> {
    const { PutObjectCommand } = await loadSdk();
    const when = 'ifNoneMatch' in condition ? { IfNoneMatch: '*' } : { IfMatch: condition.ifMatch };
    try {
      const answer = await (await this.#client()).send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: body, ContentType: contentType, ...when }));
      return answer.ETag ?? '';
    } catch (error) {
      // 412: the object changed; 409 ConditionalRequestConflict: another conditional write to it is in progress.
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) throw new PreconditionFailed(`${key} changed since it was read`, { cause: error });
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const { ListObjectsV2Command } = await loadSdk();
    const client = await this.#client();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(this.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async #client(): Promise<S3Client> {
    return this.client ?? defaultS3Client();
  }
}

/** A local object's version tag: its content's hash, quoted as S3 quotes ETags. */
function contentTag(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
}
