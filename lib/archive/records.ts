import { isLosslessNumber } from 'lossless-json';
import { losslessText } from '../oms/json.js';
import type { Item } from '../oms/item.js';
import { compareTaskIds } from '../policy/task-id.js';

/**
 * Field names whose values an archived record never holds, at any depth: OMS answers are not documented to carry
 * credentials, but a task's source node is created with `ak`, `sk`, `security_token` or `json_auth_file`, and a
 * record kept for 400 days must not be the place where one turns up.
 */
const SECRET_FIELD = /^(ak|sk|access_?key|secret(_?key|_?access_?key)?|security_?token|json_auth_file|password|token|signature|authorization|x-auth-token)$/i;
const MASK = '[REDACTED]';
/** A record longer than this (as JSON) is kept as its length and first characters: a task object is about 1 KB. */
export const MAX_RECORD_CHARS = 64 * 1024;
const HEAD_CHARS = 4096;
/**
 * Room kept beyond what the run can act on: listed copies of an id that the listing merged away, pages read past the
 * end, groups held back by a protected member. A candidate whose record still did not fit is not acted on.
 */
export const RECORD_SLACK = 1000;

/**
 * The full records of the items a run may act on, as OMS listed them, kept while the listing streams in. Only the
 * items `accepts` (a superset of what selection can take: lib/policy/select.ts mayBeSelected), and of those only the
 * `cap` oldest (oldest first is the order the run acts in, so the run cap only ever takes from them): a 100k listing
 * keeps about `cap` records, never one per listed item. Keyed by id: a second listed copy replaces the first.
 */
export class RecordKeeper {
  readonly #accepts: (item: Item) => boolean;
  readonly #cap: number;
  readonly #redact: (text: string) => string;
  readonly #byId = new Map<string, Entry>();
  /** A max-heap on (last activity, id): the newest kept entry on top, the first to go when an older one arrives. */
  readonly #heap: Entry[] = [];

  constructor(accepts: (item: Item) => boolean, cap: number, redact: (text: string) => string = (text) => text) {
    this.#accepts = accepts;
    this.#cap = Math.max(1, cap);
    this.#redact = redact;
  }

  /** Called with every parsed item of a page and the object it was parsed from. */
  consider = (item: Item, raw: unknown): void => {
    if (item.id === null || !this.#accepts(item)) return;
    const known = this.#byId.get(item.id);
    if (known !== undefined) {
      known.text = recordText(raw, this.#redact);
      return;
    }
    const entry: Entry = { id: item.id, ms: item.lastActivityMs ?? 0, text: '', at: 0 };
    if (this.#heap.length >= this.#cap) {
      const newest = this.#heap[0]!;
      if (older(newest, entry)) return; // every kept record is older than this one
      this.#byId.delete(newest.id);
      this.#replaceTop(entry);
    } else this.#push(entry);
    entry.text = recordText(raw, this.#redact);
    this.#byId.set(entry.id, entry);
  };

  /** The record's JSON text, or undefined when it was not kept. */
  recordOf(id: string): string | undefined {
    return this.#byId.get(id)?.text;
  }

  get size(): number {
    return this.#byId.size;
  }

  #push(entry: Entry): void {
    entry.at = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.at);
  }

  #replaceTop(entry: Entry): void {
    entry.at = 0;
    this.#heap[0] = entry;
    this.#down(0);
  }

  #up(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!older(heap[parent]!, heap[i]!)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const [left, right] = [2 * i + 1, 2 * i + 2];
      let top = i;
      if (left < heap.length && older(heap[top]!, heap[left]!)) top = left;
      if (right < heap.length && older(heap[top]!, heap[right]!)) top = right;
      if (top === i) return;
      this.#swap(i, top);
      i = top;
    }
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    [heap[a], heap[b]] = [heap[b]!, heap[a]!];
    heap[a]!.at = a;
    heap[b]!.at = b;
  }
}

interface Entry {
  id: string;
  ms: number;
  text: string;
  at: number;
}

/** `a` comes before `b` in the order the run acts in (oldest last activity first; ties: smaller id first). */
function older(a: Entry, b: Entry): boolean {
  return a.ms < b.ms || (a.ms === b.ms && compareTaskIds(a.id, b.id) < 0);
}

/**
 * A listed object as archive JSON: numbers exactly as listed (ids above 2^53 included), secret-looking fields masked,
 * known secret values masked by `redact`, and bounded (a huge record keeps its length and head). An owned string.
 */
export function recordText(raw: unknown, redact: (text: string) => string = (text) => text): string {
  // Strings are redacted as values, before they are written as JSON: a secret holding `"` or `\` is escaped in JSON
  // text and would no longer be found there.
  const text = losslessText(masked(raw, 0, redact));
  if (text.length <= MAX_RECORD_CHARS) return text;
  return JSON.stringify({ recordTooLarge: text.length, head: text.slice(0, HEAD_CHARS) });
}

function masked(value: unknown, depth: number, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object' || isLosslessNumber(value)) return value;
  if (depth > 16) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((item) => masked(item, depth + 1, redact));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[redact(key)] = SECRET_FIELD.test(key) ? MASK : masked(item, depth + 1, redact);
  return out;
}

/** Every string of a plain value (a summary, an outcome line) redacted, before it is written as JSON. */
export function redactedValue(value: unknown, redact: (text: string) => string): unknown {
  return masked(value, 0, redact);
}
