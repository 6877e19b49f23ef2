import { z } from 'zod';
import type { EventLog } from '../log/types.js';
import type { Item } from '../oms/item.js';
import type { Kind } from '../oms/kinds.js';
import type { ArchiveStore } from './store.js';

/** Where the progress of in-progress items is kept between runs, in the archive root. */
export const PROGRESS_KEY = 'state/progress.json';
/** An entry no run has seen for this long is forgotten (its item is gone, or no longer listed). */
const FORGET_AFTER_MS = 30 * 86_400_000;

const schema = z.strictObject({
  version: z.literal(1),
  updatedAt: z.string(),
  items: z.record(z.string(), z.strictObject({ progress: z.string(), since: z.string(), seen: z.string().optional() })),
});

/**
 * The progress counters of in-progress items from run to run (`noProgressFor`): for each, the counters last listed
 * and since when they have read so. A run observes each listing, learns since when each item has not moved, and
 * saves what it saw. Small: one entry per item in progress, about 150 bytes.
 */
export class ProgressRecord {
  readonly #items: Map<string, { progress: string; since: string; seen?: string }>;

  private constructor(items: Map<string, { progress: string; since: string; seen?: string }>) {
    this.#items = items;
  }

  /**
   * The record in the root, or an empty one. A record that is not one is logged and replaced: every item is then
   * seen for the first time, so none is stuck (the safe side). A root that cannot be read at all gives undefined (no
   * rule with noProgressFor selects anything this run; what the root means for the run's archive is said there).
   */
  static async load(store: ArchiveStore, log: EventLog): Promise<ProgressRecord | undefined> {
    let bytes: Buffer | undefined;
    try {
      bytes = await store.get(PROGRESS_KEY);
    } catch (error) {
      log.warn('progress record unreadable', { key: PROGRESS_KEY, reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error), effect: 'progress is not watched this run' });
      return undefined;
    }
    if (bytes === undefined) return new ProgressRecord(new Map());
    try {
      const parsed = schema.parse(JSON.parse(bytes.toString('utf8')));
      return new ProgressRecord(new Map(Object.entries(parsed.items)));
    } catch (error) {
      log.warn('progress record unreadable', { key: PROGRESS_KEY, reason: error instanceof Error ? error.message : String(error), effect: 'starting afresh: no item counts as stuck this run' });
      return new ProgressRecord(new Map());
    }
  }

  /**
   * Takes in one listing (a target's kind). Items whose counters read as recorded keep their `since`; new or moved
   * ones start now. When the listing is `complete`, entries of that target and kind it no longer holds in progress
   * are dropped. Returns since when an item (as listed, or as a later look shows it) has not moved.
   */
  observe(target: string, kind: Kind, items: readonly Item[], nowMs: number, complete: boolean): (item: Item) => number | undefined {
    const prefix = `${target}\u0000${kind}\u0000`;
    const seen = new Set<string>();
    const now = new Date(nowMs).toISOString();
    for (const item of items) {
      if (item.id === null || item.progress === undefined) continue;
      const key = prefix + item.id;
      seen.add(key);
      const before = this.#items.get(key);
      if (before === undefined || before.progress !== item.progress) this.#items.set(key, { progress: item.progress, since: now, seen: now });
      else before.seen = now;
    }
    if (complete) for (const key of [...this.#items.keys()]) if (key.startsWith(prefix) && !seen.has(key)) this.#items.delete(key);
    return (item) => {
      if (item.id === null || item.progress === undefined) return undefined;
      const entry = this.#items.get(prefix + item.id);
      return entry !== undefined && entry.progress === item.progress ? Date.parse(entry.since) : undefined;
    };
  }

  /**
   * Saves the record. Entries no run has seen for FORGET_AFTER_MS (a target or kind no longer listed, a listing that
   * keeps failing) are dropped, so the record stays about the size of what is in progress, and an old `since` never
   * comes back into effect.
   */
  async save(store: ArchiveStore, nowMs: number): Promise<void> {
    for (const [key, entry] of this.#items) if (nowMs - Date.parse(entry.seen ?? entry.since) > FORGET_AFTER_MS) this.#items.delete(key);
    const body = { version: 1, updatedAt: new Date(nowMs).toISOString(), items: Object.fromEntries(this.#items) };
    await store.put(PROGRESS_KEY, Buffer.from(`${JSON.stringify(body)}\n`), 'application/json');
  }
}
