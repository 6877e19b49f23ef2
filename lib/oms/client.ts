import type { Authenticator } from '../auth/types.js';
import { HttpError } from '../http/errors.js';
import type { Http } from '../http/types.js';
import { OmsResponseError } from './errors.js';
import { finiteNumber, parseLossless } from './json.js';
import { listAllPages, type Listing, type Page } from './listing.js';
import { isValidTaskId, parseTask, type Task } from './task.js';

export type { Listing } from './listing.js';

export interface ListOptions {
  /**
   * The run's limiter: every page request goes through it (the caller must not hold a slot while listing, or a
   * limit of 1 would deadlock). Default: requests are sent as they come.
   */
  schedule?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Pages read at once after the first (see listing.ts). Default 1: page by page. */
  parallelPages?: number;
}

/** One task object is about 1 KB; a show answer many times that is not a task (and stopFirst may run many at once). */
export const MAX_SHOW_BODY_BYTES = 256 * 1024;

/** Where one OMS project lives. */
export interface OmsProject {
  endpoint: string;
  projectId: string;
}

export type DeleteResult = 'deleted' | 'already-gone';

export interface OmsClientOptions {
  http: Http;
  auth: Authenticator;
  /** 1..100. Default 100 (the API maximum: fewest round trips). */
  pageSize?: number;
  /** Safety stop for a server that never stops paging. Default 5000 pages (500,000 tasks). */
  maxPages?: number;
  /** Ends every request of this client (the run's deadline inside Lambda). */
  signal?: AbortSignal;
}

/**
 * The OMS v2 task calls. It reads and reports; it never decides what to delete. Ids are strings end to end and are
 * checked again here before they go into a URL, whoever calls.
 */
export class OmsClient {
  readonly #http: Http;
  readonly #auth: Authenticator;
  readonly #pageSize: number;
  readonly #maxPages: number;
  readonly #signal: AbortSignal | undefined;

  constructor(options: OmsClientOptions) {
    this.#signal = options.signal;
    this.#http = options.http;
    this.#auth = options.auth;
    this.#pageSize = options.pageSize ?? 100;
    this.#maxPages = options.maxPages ?? 5000;
  }

  /**
   * Every task of the project (offset paging is no snapshot: pages may shift, so ids are merged; see listing.ts).
   * Each page is parsed into owned Task records as soon as it arrives, so no page's text outlives its request.
   */
  async listTasks(project: OmsProject, options: ListOptions = {}): Promise<Listing> {
    const schedule = options.schedule ?? ((work) => work());
    return listAllPages((offset) => schedule(() => this.#listPage(project, offset)), {
      pageSize: this.#pageSize,
      maxPages: this.#maxPages,
      parallelPages: options.parallelPages ?? 1,
    });
  }

  async #listPage(project: OmsProject, offset: number): Promise<Page> {
    const path = `/v2/${project.projectId}/tasks`;
    const response = await this.#http.request({
      method: 'GET',
      url: project.endpoint + path,
      searchParams: { limit: this.#pageSize, offset },
      projectId: project.projectId,
      auth: this.#auth,
      parse: (text) => readPage(text, `GET ${path}`),
      ...this.#signalOption(),
    });
    return response.value as Page;
  }

  async showTask(project: OmsProject, taskId: string): Promise<Task> {
    const path = this.#taskPath(project, taskId);
    const response = await this.#http.request({
      method: 'GET',
      url: project.endpoint + path,
      projectId: project.projectId,
      auth: this.#auth,
      maxBodyBytes: MAX_SHOW_BODY_BYTES,
      parse: (text) => readShow(text, `GET ${path}`, taskId),
      ...this.#signalOption(),
    });
    return response.value as Task;
  }

  /** Pause a task (POST …/stop). */
  async stopTask(project: OmsProject, taskId: string): Promise<void> {
    const path = `${this.#taskPath(project, taskId)}/stop`;
    await this.#http.request({ method: 'POST', url: project.endpoint + path, projectId: project.projectId, auth: this.#auth, discardBody: true, ...this.#signalOption() });
  }

  /**
   * Delete a task. 400 OMS.1009 ("no resources found") and 404 mean it is already gone, except API Gateway's
   * 404 APIGW.0101, which says the API itself does not exist (a wrong endpoint): that is a failure, not a success.
   */
  async deleteTask(project: OmsProject, taskId: string): Promise<DeleteResult> {
    const path = this.#taskPath(project, taskId);
    try {
      await this.#http.request({ method: 'DELETE', url: project.endpoint + path, projectId: project.projectId, auth: this.#auth, discardBody: true, ...this.#signalOption() });
      return 'deleted';
    } catch (error) {
      if (error instanceof HttpError && isAlreadyGone(error)) return 'already-gone';
      throw error;
    }
  }

  #signalOption(): { signal?: AbortSignal } {
    return this.#signal ? { signal: this.#signal } : {};
  }

  #taskPath(project: OmsProject, taskId: string): string {
    if (!isValidTaskId(taskId)) throw new RangeError(`refusing to put a malformed task id in a URL: ${JSON.stringify(taskId.slice(0, 40))}`);
    return `/v2/${project.projectId}/tasks/${taskId}`;
  }
}

export function isAlreadyGone(error: HttpError): boolean {
  if (error.status === 400) return error.errorCode === 'OMS.1009';
  return error.status === 404 && error.errorCode !== 'APIGW.0101';
}

/**
 * A list page: an object with a `tasks` array and, when present, a numeric `count`. Anything else throws (inside the
 * attempt, so the page is asked for again like after a 502). Its tasks become owned records at once.
 */
function readPage(text: string, what: string): Page {
  const body = parseBody(text, what);
  if (!Array.isArray(body.tasks)) throw new OmsResponseError(what, 'no "tasks" array in the answer');
  const count = body.count === undefined || body.count === null ? undefined : finiteNumber(body.count);
  if (count === undefined && body.count !== undefined && body.count !== null) throw new OmsResponseError(what, '"count" is not a number');
  return { tasks: (body.tasks as unknown[]).map(parseTask), count };
}

/**
 * A show answer: only one that names exactly this task may steer what happens to it (after a pause, its status
 * decides the delete); another id, a missing id or an unreadable one throws, and the task is asked for again.
 */
function readShow(text: string, what: string, taskId: string): Task {
  const task = parseTask(parseBody(text, what));
  if (task.id !== taskId) throw new OmsResponseError(what, `it describes task ${task.idText}, not ${taskId}`);
  return task;
}

function parseBody(text: string, what: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = parseLossless(text);
  } catch (cause) {
    throw new OmsResponseError(what, 'the body is not JSON', { cause });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new OmsResponseError(what, 'the body is not a JSON object');
  return body as Record<string, unknown>;
}
