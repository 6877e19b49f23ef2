/** A run's state while it goes: per target, and per kind of it (a lane), the counters being filled. */
import type { OmsClient } from '../oms/client.js';
import type { Item } from '../oms/item.js';
import type { Kind } from '../oms/kinds.js';
import type { SelectionOptions, Target, TargetSelection } from '../policy/types.js';
import type { QuietOutcomes } from './outcome-log.js';
import { emptyTotals, type DeferredItem, type Failure, type Totals } from './summary.js';

/** One kind of one target: its listing, selection and counters. */
export interface Lane {
  kind: Kind;
  tally: Tally;
  /** Between listing and selection only: what was listed, and when the listing started (ages are measured from it). */
  listing?: { items: readonly Item[]; nowMs: number };
  selection?: TargetSelection;
  /** What the selection was asked with: judging again an item a look shows changed uses the same (lib/policy/reselect.ts). */
  options?: SelectionOptions;
  /** Valid ids of the listing, kept only for explicit purges and manifests (to report named items no listing had). */
  listedIds?: string[];
  /** Dry-run and not-attempted outcomes, summarised at INFO when the run ends (lib/purge/outcome-log.ts). */
  quiet?: QuietOutcomes;
}

/** A lane's counters: a KindSummary (tasks: the target's own fields) being filled. */
export interface Tally extends Totals {
  refused: boolean;
  /** The selection was over limits.maxDeletePercent and let through (force, or an acceptance in the manifest). */
  limitOverridden?: true;
  truncated: boolean;
  failures: Failure[];
  failuresOmitted?: number;
  /** The first MAX_FAILURES_LISTED deferred items, by id, with why; the rest counted. */
  deferredItems: DeferredItem[];
  deferredOmitted?: number;
  /** Listing this kind failed: why. */
  error?: string;
}

export interface TargetRun {
  target: Target;
  /** This target's client, or why it has none (its credentials failed). */
  oms: OmsClient | Error;
  /** One per kind of the run, in KINDS order. */
  lanes: Lane[];
  /** The target stopped (its credentials failed, 5 403s or 5 throttled requests in a row, a 401): why. Every kind
   * of it stops: they share the credentials and the project. */
  stopped?: string;
  consecutive403: number;
  /** Requests in a row that ended throttled (429 after every retry). */
  consecutiveThrottled: number;
}

export function emptyTally(): Tally {
  return { ...emptyTotals(), refused: false, truncated: false, failures: [], deferredItems: [] };
}
