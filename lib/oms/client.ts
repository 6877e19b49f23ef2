import type { Authenticator } from '../http/authenticator.js';
import { HttpError } from '../http/errors.js';
import type { Http } from '../http/types.js';
import { OmsResponseError } from './errors.js';
import { isAlreadyGone } from './codes.js';
import { finiteNumber, parseLossless } from './json.js';
import { KIND_MODELS, type Kind } from './kinds.js';
import { listAllPages, type Listing, type Page } from './listing.js';
import { isValidId, parseItem, type Item } from './item.js';

export type { Listing } from './listing.js';

export interface ListOptions {
  /**
   * The run's limiter: every page request goes through it (the caller must not hold a slot while listing, or a
   * limit of 1 would deadlock). Default: requests are sent as they come.
   */
  schedule?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Pages read at once after the first (see listing.ts). Default 1: page by page. */
  parallelPages?: number;
  /**
   * Told every item as its page is parsed, with the object it was parsed from (which is gone afterwards): the run's
   * archive keeps the full records of possible candidates this way (lib/archive/records.ts).
   */
  onItem?: (item: Item, raw: unknown) => void;
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
 * The OMS v2 calls for every kind (tasks, task groups, sync tasks; lib/oms/kinds.ts says where each lives). It reads
 * and reports; it never decides what to delete. Ids are strings end to end and are checked again here, for their
 * kind, before they go into a URL, whoever calls.
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
   * Every item of this kind in the project (offset paging is no snapshot: pages may shift, so ids are merged; see
   * listing.ts). Each page is parsed into owned records as soon as it arrives, so no page's text outlives its request.
   */
  async list(kind: Kind, project: OmsProject, options: ListOptions = {}): Promise<Listing> {
    const schedule = options.schedule ?? ((work) => work());
    return listAllPages((offset) => schedule(() => this.#listPage(kind, project, offset, options.onItem)), {
      pageSize: this.#pageSize,
      maxPages: this.#maxPages,
      parallelPages: options.parallelPages ?? 1,
    });
  }

  async #listPage(kind: Kind, project: OmsProject, offset: number, onItem: ListOptions['onItem']): Promise<Page> {
    const path = `/v2/${project.projectId}/${KIND_MODELS[kind].api.collection}`;
    const response = await this.#http.request({
      method: 'GET',
      url: project.endpoint + path,
      searchParams: { limit: this.#pageSize, offset },
      projectId: project.projectId,
      auth: this.#auth,
      parse: (text) => readPage(kind, text, `GET ${path}`, onItem),
      signal: this.#signal,
    });
    return response.value as Page;
  }

  /** One item as it is now. A sync task's show needs `query_time` (the month whose statistics it adds): now. */
  async show(kind: Kind, project: OmsProject, id: string): Promise<Item> {
    const path = this.#itemPath(kind, project, id);
    const response = await this.#http.request({
      method: 'GET',
      url: project.endpoint + path,
      ...(kind === 'syncTask' ? { searchParams: { query_time: Date.now() } } : {}),
      projectId: project.projectId,
      auth: this.#auth,
      maxBodyBytes: MAX_SHOW_BODY_BYTES,
      parse: (text) => readShow(kind, text, `GET ${path}`, id),
      signal: this.#signal,
    });
    return response.value as Item;
  }

  /** Pause a task or a task group, stop a sync task (POST or PUT …/stop, no body). */
  async pause(kind: Kind, project: OmsProject, id: string): Promise<void> {
    const path = `${this.#itemPath(kind, project, id)}/stop`;
    const method = KIND_MODELS[kind].api.pauseMethod;
    await this.#http.request({ method, url: project.endpoint + path, projectId: project.projectId, auth: this.#auth, discardBody: true, signal: this.#signal });
  }

  /**
   * Delete an item. 400 OMS.1009 ("no resources found") and 404 mean it is already gone, except API Gateway's
   * 404 APIGW.0101, which says the API itself does not exist (a wrong endpoint): that is a failure, not a success.
   */
  async delete(kind: Kind, project: OmsProject, id: string): Promise<DeleteResult> {
    const path = this.#itemPath(kind, project, id);
    try {
      await this.#http.request({ method: 'DELETE', url: project.endpoint + path, projectId: project.projectId, auth: this.#auth, discardBody: true, signal: this.#signal });
      return 'deleted';
    } catch (error) {
      if (error instanceof HttpError && isAlreadyGone(error)) return 'already-gone';
      throw error;
    }
  }

  #itemPath(kind: Kind, project: OmsProject, id: string): string {
    const model = KIND_MODELS[kind];
    if (!isValidId(kind, id)) throw new RangeError(`refusing to put a malformed ${model.noun} id in a URL: ${JSON.stringify(id.slice(0, 40))}`);
    return `/v2/${project.projectId}/${model.api.collection}/${id}`;
  }
}

/**
 * A list page: an object with the kind's array (`tasks`, `taskgroups`) and, when present, a numeric `count`. Anything
 * else throws (inside the attempt, so the page is asked for again like after a 502). Its items become owned records
 * at once.
 */
function readPage(kind: Kind, text: string, what: string, onItem?: ListOptions['onItem']): Page {
  const body = parseBody(text, what);
  const key = KIND_MODELS[kind].api.listKey;
  const items = body[key];
  if (!Array.isArray(items)) throw new OmsResponseError(what, `no "${key}" array in the answer`);
  const count = body.count === undefined || body.count === null ? undefined : finiteNumber(body.count);
  if (count === undefined && body.count !== undefined && body.count !== null) throw new OmsResponseError(what, '"count" is not a number');
  const tasks = (items as unknown[]).map((raw) => {
    const item = parseItem(kind, raw);
    onItem?.(item, raw);
    return item;
  });
  return { tasks, count };
}

/**
 * A show answer: only one that names exactly this item may steer what happens to it (after a pause, its status
 * decides the delete); another id, a missing id or an unreadable one throws, and the item is asked for again.
 */
function readShow(kind: Kind, text: string, what: string, id: string): Item {
  const item = parseItem(kind, parseBody(text, what));
  if (item.id !== id) throw new OmsResponseError(what, `it describes ${KIND_MODELS[kind].noun} ${item.idText}, not ${id}`);
  return item;
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
