import { HttpError } from '../http/errors.js';
import type { Item } from './item.js';

export interface Listing {
  /** De-duplicated by id (malformed ids by their printed form), in listing order; frozen (see `knownDistinct`). */
  tasks: readonly Item[];
  /** `count` of the last page read, when it was a number. */
  count: number | undefined;
  pages: number;
  /** The listing stopped short; `truncation` says why. The tasks seen are still usable. */
  truncated: boolean;
  truncation?: string;
}

/** One page as the client read it: its tasks already parsed into owned records, and the page's `count`. */
export interface Page {
  tasks: Item[];
  count: number | undefined;
}

export interface PagingOptions {
  /** The page size asked for (`limit`). */
  pageSize: number;
  /** Safety stop for a server that never stops paging. */
  maxPages: number;
  /** Pages in flight at once after the first (the run's concurrency; its limiter bounds them all). 1 = one by one. */
  parallelPages: number;
}

/**
 * Every page of a listing, with the trust rules of docs/behaviour.md ("Listing"). The first page is read alone; its
 * `count` and length (the stride: a server that quietly caps `limit` is paged by what it returns) say which offsets
 * hold the rest, and those are read up to `parallelPages` at a time. Pages are always judged in offset order, exactly
 * as a page-by-page listing would judge them, and the listing ends at the first page that ends it (the few pages
 * already in flight beyond it are ignored). Past the offsets the first count promised, it goes on page by page while
 * pages come back full (the count may have grown).
 */
export async function listAllPages(fetchPage: (offset: number) => Promise<Page>, options: PagingOptions): Promise<Listing> {
  const state = new ListingState(options);
  let arrivals = 0; // the order pages came back in (not their offset order), for comparing their counts
  const first = await fetchPage(0); // a refused first page is no partial view: it is an error
  state.arrived(first, arrivals++);
  const end = state.take(first, 0, true);
  if (end) return end;
  const stride = first.tasks.length;

  // The offsets the first page's count promises, read `parallelPages` at a time and judged in order.
  const planEnd = Math.min(state.count ?? 0, stride * options.maxPages);
  const inFlight = new Map<number, Promise<Settled>>();
  let toIssue = stride;
  let offset = stride;
  const issue = () => {
    while (inFlight.size < options.parallelPages && toIssue < planEnd) {
      inFlight.set(
        toIssue,
        settle(
          fetchPage(toIssue).then((page) => {
            state.arrived(page, arrivals++);
            return page;
          }),
        ),
      );
      toIssue += stride;
    }
  };
  issue();
  let last: Page = first;
  while (inFlight.has(offset)) {
    const settled = await inFlight.get(offset)!;
    inFlight.delete(offset);
    if (!settled.ok) return state.failed(settled.error, offset);
    // A page that is not the last one planned is never "the short page that ends it": pages after it are known.
    const stop = state.take(settled.page, offset, toIssue >= planEnd && inFlight.size === 0);
    if (stop) return stop;
    last = settled.page;
    offset += stride;
    issue();
  }

  // Past what the first count promised: page by page while pages are full, advancing by what each page held.
  offset = offset - stride + last.tasks.length;
  for (;;) {
    let page: Page;
    try {
      page = await fetchPage(offset);
    } catch (error) {
      return state.failed(error, offset);
    }
    state.arrived(page, arrivals++);
    const stop = state.take(page, offset, true);
    if (stop) return stop;
    offset += page.tasks.length;
  }
}

type Settled = { ok: true; page: Page } | { ok: false; error: unknown };

function settle(promise: Promise<Page>): Promise<Settled> {
  return promise.then(
    (page) => ({ ok: true as const, page }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The merged view of the pages judged so far. */
class ListingState {
  readonly #byKey = new Map<string, Item>();
  readonly #options: PagingOptions;
  #pages = 0;
  count: number | undefined;
  /** Each page's `count` by the order the pages came back in. */
  readonly #counts: { arrival: number; count: number }[] = [];

  constructor(options: PagingOptions) {
    this.#options = options;
  }

  /**
   * Judges the page at `offset`; returns the finished listing when this page ends it. `last`: no later page is
   * known yet, so a short page whose count agrees is the end.
   */
  take(page: Page, offset: number, last: boolean): Listing | undefined {
    this.#pages += 1;
    this.count = page.count;
    let fresh = 0;
    for (const task of page.tasks) {
      const key = task.id ?? `malformed:${task.idText}`;
      const seen = this.#byKey.get(key);
      if (seen === undefined) {
        fresh += 1;
        this.#byKey.set(key, task);
      } else if (!sameItem(seen, task)) {
        // Listed twice with different contents (it changed between pages, or the server is confused): neither
        // copy can be trusted this run, so its status becomes unknown and selection leaves it alone.
        this.#byKey.set(key, { ...seen, status: null });
      }
    }
    const length = page.tasks.length;
    if (length === 0) return this.done(false);
    // A short page ends the listing, unless `count` says there is more (a server that caps `limit` quietly).
    if (last && length < this.#options.pageSize && (this.count === undefined || offset + length >= this.count)) return this.done(false);
    if (fresh === 0) return this.done(true, `a page at offset ${offset} brought no new task`);
    if (this.#pages >= this.#options.maxPages) return this.done(true, `stopped after ${this.#pages} pages`);
    return undefined;
  }

  /** A page after the first failed: a refused offset (400) is a partial view; anything else fails the listing. */
  failed(error: unknown, offset: number): Listing {
    // Some regions cap the offset (10000) and answer 400: what was seen is still a valid, partial view.
    if (error instanceof HttpError && error.status === 400) {
      return this.done(true, `the API refused offset ${offset} (${error.errorCode ?? 'HTTP 400'}): only part of the tasks were seen`);
    }
    throw error;
  }

  /** Notes a page's `count` as it comes back (pages read in parallel come back in any order). */
  arrived(page: Page, arrival: number): void {
    if (page.count !== undefined) this.#counts.push({ arrival, count: page.count });
  }

  /**
   * Fewer tasks counted by a page than by one that came back before it: some were deleted while paging, and every
   * task after them moved to a smaller offset, some past pages already read, unseen this run. Compared in the order
   * the pages came back, not their offsets: a count that grows (new tasks only push others to later offsets, which
   * are still read) must not look like a drop because a later page was answered first.
   */
  #countDrop(): string | undefined {
    const counts = [...this.#counts].sort((a, b) => a.arrival - b.arrival);
    for (let i = 1; i < counts.length; i += 1) {
      const [before, after] = [counts[i - 1]!.count, counts[i]!.count];
      if (after < before) return `the count fell from ${before} to ${after} while paging: tasks deleted meanwhile moved others past the pages read`;
    }
    return undefined;
  }

  done(truncated: boolean, truncation?: string): Listing {
    const drop = truncated ? undefined : this.#countDrop();
    if (drop !== undefined) return this.done(true, drop);
    // Fewer distinct tasks than the API counted: tasks went unseen (or were deleted while paging). Say so.
    if (!truncated && this.count !== undefined && this.#byKey.size < this.count) {
      return this.done(true, `the API counted ${this.count} tasks but the pages held ${this.#byKey.size}`);
    }
    return { tasks: distinct([...this.#byKey.values()]), count: this.count, pages: this.#pages, truncated, ...(truncation ? { truncation } : {}) };
  }
}

/** The fields selection reads; two listings of one id that differ here cannot both be right. */
function sameItem(a: Item, b: Item): boolean {
  return (
    a.name === b.name &&
    a.status === b.status &&
    a.lastActivityMs === b.lastActivityMs &&
    a.groupType === b.groupType &&
    a.groupId === b.groupId &&
    a.description === b.description &&
    a.srcBucket === b.srcBucket &&
    a.dstBucket === b.dstBucket
  );
}

/** Listings made here: each id at most once, and frozen, so that it stays so. */
const DISTINCT = new WeakSet<readonly Item[]>();

function distinct(items: Item[]): readonly Item[] {
  DISTINCT.add(Object.freeze(items));
  return items;
}

/**
 * True for the tasks of a listing made here: no id in it twice (malformed ids not even by their printed form), so
 * `select` need not check again with a set of 100,000 ids. Any other list is checked.
 */
export function knownDistinct(items: readonly Item[]): boolean {
  return DISTINCT.has(items);
}
