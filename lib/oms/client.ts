import type { Authenticator } from '../auth/types.js';
import { HttpError } from '../http/errors.js';
import type { Http } from '../http/types.js';
import { OmsResponseError } from './errors.js';
import { finiteNumber, parseLossless } from './json.js';
import { isValidTaskId, parseTask, type Task } from './task.js';

/** One task object is about 1 KB; a show answer many times that is not a task (and stopFirst may run many at once). */
export const MAX_SHOW_BODY_BYTES = 256 * 1024;

/** Where one OMS project lives. */
export interface OmsProject {
  endpoint: string;
  projectId: string;
}

export interface Listing {
  /** De-duplicated by id (malformed ids by their printed form), in listing order. */
  tasks: Task[];
  /** `count` of the last page, when it was a number. */
  count: number | undefined;
  pages: number;
  /** The listing stopped short; `truncation` says why. The tasks seen are still usable. */
  truncated: boolean;
  truncation?: string;
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

  /** Every task of the project, page by page (offset paging is no snapshot: pages may shift, so ids are merged). */
  async listTasks(project: OmsProject, onPage?: (seen: number, count: number | undefined) => void): Promise<Listing> {
    const byKey = new Map<string, Task>();
    let count: number | undefined;
    let pages = 0;
    let offset = 0;
    for (;;) {
      if (pages >= this.#maxPages) return done(true, `stopped after ${pages} pages`);
      let page: unknown[];
      try {
        page = await this.#listPage(project, offset, (c) => (count = c));
      } catch (error) {
        // Some regions cap the offset (10000) and answer 400: what was seen is still a valid, partial view.
        if (offset > 0 && error instanceof HttpError && error.status === 400) {
          return done(true, `the API refused offset ${offset} (${error.errorCode ?? 'HTTP 400'}): only part of the tasks were seen`);
        }
        throw error;
      }
      pages += 1;
      let fresh = 0;
      for (const raw of page) {
        const task = parseTask(raw);
        const key = task.id ?? `malformed:${task.idText}`;
        const seen = byKey.get(key);
        if (seen === undefined) {
          fresh += 1;
          byKey.set(key, task);
        } else if (!sameTask(seen, task)) {
          // Listed twice with different contents (it changed between pages, or the server is confused): neither
          // copy can be trusted this run, so its status becomes unknown and selection leaves it alone.
          byKey.set(key, { ...seen, status: null });
        }
      }
      onPage?.(byKey.size, count);
      if (page.length === 0) return done(false);
      offset += page.length;
      // A short page ends the listing, unless `count` says there is more (a server that caps `limit` quietly).
      if (page.length < this.#pageSize && (count === undefined || offset >= count)) return done(false);
      if (fresh === 0) return done(true, `a page at offset ${offset - page.length} brought no new task`);
    }

    function done(truncated: boolean, truncation?: string): Listing {
      // Fewer distinct tasks than the API counted: tasks went unseen (or were deleted while paging). Say so.
      if (!truncated && count !== undefined && byKey.size < count) {
        return done(true, `the API counted ${count} tasks but the pages held ${byKey.size}`);
      }
      return { tasks: [...byKey.values()], count, pages, truncated, ...(truncation ? { truncation } : {}) };
    }
  }

  async #listPage(project: OmsProject, offset: number, setCount: (count: number | undefined) => void): Promise<unknown[]> {
    const url = `${project.endpoint}/v2/${project.projectId}/tasks`;
    const response = await this.#http.request({
      method: 'GET',
      url,
      searchParams: { limit: this.#pageSize, offset },
      projectId: project.projectId,
      auth: this.#auth,
      ...this.#signalOption(),
    });
    const body = parseBody(response.body, `GET /v2/${project.projectId}/tasks`);
    if (!Array.isArray(body.tasks)) {
      throw new OmsResponseError(`GET /v2/${project.projectId}/tasks`, 'no "tasks" array in the answer');
    }
    setCount(finiteNumber(body.count));
    return body.tasks as unknown[];
  }

  async showTask(project: OmsProject, taskId: string): Promise<Task> {
    const path = this.#taskPath(project, taskId);
    const response = await this.#http.request({
      method: 'GET',
      url: project.endpoint + path,
      projectId: project.projectId,
      auth: this.#auth,
      maxBodyBytes: MAX_SHOW_BODY_BYTES,
      ...this.#signalOption(),
    });
    const task = parseTask(parseBody(response.body, `GET ${path}`));
    // Only an answer that names exactly this task may steer what happens to it (after a pause, its status decides
    // the delete): another id, a missing id or an unreadable one is refused.
    if (task.id !== taskId) throw new OmsResponseError(`GET ${path}`, `it describes task ${task.idText}, not ${taskId}`);
    return task;
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

/** The fields selection reads; two listings of one id that differ here cannot both be right. */
function sameTask(a: Task, b: Task): boolean {
  return a.name === b.name && a.status === b.status && a.lastActivityMs === b.lastActivityMs && a.groupType === b.groupType;
}

export function isAlreadyGone(error: HttpError): boolean {
  if (error.status === 400) return error.errorCode === 'OMS.1009';
  return error.status === 404 && error.errorCode !== 'APIGW.0101';
}

function parseBody(text: string, path: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = parseLossless(text);
  } catch (cause) {
    throw new OmsResponseError(path, 'the body is not JSON', { cause });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new OmsResponseError(path, 'the body is not a JSON object');
  return body as Record<string, unknown>;
}
