import type { Clock } from './types.js';

/** What a fetch yields: the value and the instant (ms) until which it may be served. */
export interface Expiring<V> {
  value: V;
  /** The entry is served while clock() < expiresAtMs; a value at or before now is returned but not kept. */
  expiresAtMs: number;
}

/**
 * A keyed cache whose rules live here and nowhere else:
 * - Expiry: each fetch decides its own expiry (a TTL for secrets, "5 minutes before expires_at" for IAM tokens).
 *   An entry is served while `clock() < expiresAtMs`; once expired, the next get fetches again.
 * - Bypass: `get(key, fetch, { bypass: true })` ignores a fresh entry and fetches; the result replaces it.
 * - Failure: a failed fetch is never cached, and it evicts the key's entry, so a value that just failed to be
 *   re-read (a deleted or denied secret) is not served afterwards. Every waiter of that fetch gets the error.
 * - Sharing: concurrent gets of one key share one in-flight fetch (no stampede), bypassing gets included.
 * - `delete(key)` forgets the entry; a fetch already in flight still answers its waiters but is not stored.
 * Instances live as long as their owner: module-level ones survive warm Lambda invocations.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, Expiring<V>>();
  /** The record object doubles as a ticket: only the fetch still registered for its key may store or evict. */
  private readonly inFlight = new Map<string, { promise?: Promise<V> }>();

  constructor(private readonly clock: Clock = Date.now) {}

  async get(key: string, fetch: () => Promise<Expiring<V>>, options: { bypass?: boolean } = {}): Promise<V> {
    const pending = this.inFlight.get(key)?.promise;
    if (pending) return pending;
    const entry = this.entries.get(key);
    if (entry && !options.bypass && this.clock() < entry.expiresAtMs) return entry.value;
    const ticket: { promise?: Promise<V> } = {};
    this.inFlight.set(key, ticket);
    const promise = this.load(key, fetch, ticket);
    ticket.promise = promise;
    return promise;
  }

  /** The stored entry, fresh or not, without fetching. */
  peek(key: string): Expiring<V> | undefined {
    return this.entries.get(key);
  }

  delete(key: string): void {
    this.entries.delete(key);
    this.inFlight.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.inFlight.clear();
  }

  private async load(key: string, fetch: () => Promise<Expiring<V>>, ticket: object): Promise<V> {
    const current = () => this.inFlight.get(key) === ticket;
    try {
      const fetched = await fetch();
      if (current()) {
        if (this.clock() < fetched.expiresAtMs) this.entries.set(key, fetched);
        else this.entries.delete(key);
      }
      return fetched.value;
    } catch (error) {
      if (current()) this.entries.delete(key);
      throw error;
    } finally {
      if (current()) this.inFlight.delete(key);
    }
  }
}
