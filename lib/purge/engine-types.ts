/** What a run is asked (PurgeRequest) and what the engine is given to do it with (EngineDeps). */
import type { EventLog } from '../log/types.js';
import type { OmsClient } from '../oms/client.js';
import type { Item } from '../oms/item.js';
import type { Kind } from '../oms/kinds.js';
import type { Candidate, PlannedItems, Policy, SelectionOptions, Target } from '../policy/types.js';
import type { Outcome } from './outcome.js';

/** One run, as the CLI or the Lambda handler asked for it (validated by lib/purge/request.ts). */
export interface PurgeRequest extends Omit<SelectionOptions, 'planned' | 'force'> {
  policy: Policy;
  /** Who may pass the maxDeletePercent refusal: each grant lets through what it names (lib/purge/request.ts). */
  force?: readonly ForceGrant[];
  dryRun: boolean;
  /** Target names to run; default all. */
  targets?: string[];
  /** Applying a manifest: its items by target, then kind, then id (lib/purge/manifest.ts plannedByTarget). Exclusive of taskIds. */
  plannedByTarget?: ReadonlyMap<string, PlannedItems>;
  /**
   * A run under a notice window (lib/notice): `plannedByTarget` holds the announced items now due, judged exactly as
   * a manifest's; every lane is also selected by the rules, for the next announcement (EngineDeps.onAnnounce).
   * Outcome lines say `from: notice`.
   */
  notice?: true;
}

/**
 * A let-through of the limits.maxDeletePercent refusal, for the kinds and targets it names (absent: every one):
 * `--force` is `{}`, `--force syncTask` is `{kind: 'syncTask'}`, and a reviewed acceptance (`plan --accept-over-limit`,
 * recorded in the manifest) names its target and kind, with who accepted it and when.
 */
export interface ForceGrant {
  target?: string;
  kind?: Kind;
  acceptedBy?: string;
  acceptedAt?: string;
}

/** What a real run's archive needs from the engine (lib/archive/run-archive.ts implements it). */
export interface RunRecorder {
  /**
   * Before a lane is listed: the sink its items go through as they are parsed. `accepts` holds for every item the
   * lane's selection can take (lib/policy/select.ts mayBeSelected); the run acts on at most `cap` of them.
   */
  itemSink(target: Target, kind: Kind, accepts: (item: Item) => boolean, cap: number): (item: Item, raw: unknown) => void;
  /**
   * After selection and confirmation, before the first pause or delete (also when there is none): the run's queue.
   * Resolves to the candidates it could not record (deferred `not-archived`, never acted on); rejects when nothing
   * could be recorded (the run then acts on nothing and fails).
   */
  beforeChanges(queue: readonly { target: Target; candidate: Candidate }[]): Promise<ReadonlySet<Candidate>>;
}

export interface EngineDeps {
  oms: OmsClient;
  /**
   * The client of a target that has credentials of its own (another account; lib/purge/runtime.ts), or the reason
   * it has none: that target stops before any request, the others go on. Default: `oms` for every target.
   */
  clientFor?: (target: Target) => OmsClient | Error;
  log: EventLog;
  /** Default Date.now. */
  clock?: () => number;
  /** Lambda's context.getRemainingTimeInMillis; absent = no time budget (the CLI). */
  remainingTimeMs?: () => number;
  /** No new task starts when less than this remains. Default 30000 ms. */
  reserveMs?: number;
  /** The longest wait between looks at an item this run paused. Default 2000 ms. */
  pollIntervalMs?: number;
  /**
   * The longest wait between looks at an item OMS would not pause or delete just now, or one in a state that can
   * only be waited out (a creating group). Default 30000 ms.
   */
  waitIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  runId?: string;
  onProgress?: (progress: { phase: 'list' | 'purge'; done: number; total: number }) => void;
  /** Told every selected task's outcome (the `plan` table is built from these). */
  onOutcome?: (target: Target, candidate: Candidate, outcome: Outcome) => void;
  /**
   * Told the selection of a refused target (which gets no outcomes: nothing in it is touched), so that `plan` can
   * list it for review before a forced run.
   */
  onRefused?: (target: Target, selected: readonly Candidate[]) => void;
  /**
   * How an operator lets a refused target through, in the caller's terms (the CLI command, the Lambda event), for
   * the `target refused` log line. Default: a generic hint.
   */
  howToForce?: (target: string, kind: Kind) => string;
  /**
   * Asked once, after selection and before the first pause or delete of a real run that has anything to do, with the
   * counts per target and kind: false ends the run there (RunDeclined), nothing changed. The CLI asks the person at
   * the terminal; absent, nobody is asked.
   */
  confirm?: (going: readonly { target: string; kind: Kind; count: number }[]) => Promise<boolean>;
  /**
   * A real run's archive (lib/archive/run-archive.ts): it keeps the full records of possible candidates as the
   * listings stream in, and records the run's queue before the first pause or delete. Not used by dry runs.
   */
  recorder?: RunRecorder;
  /**
   * The progress of in-progress items across runs (lib/archive/progress.ts ProgressRecord), for rules with
   * `noProgressFor`: told each listing, it answers since when an item has not moved. Absent: such rules match nothing.
   */
  progress?: { observe(target: string, kind: Kind, items: readonly Item[], nowMs: number, complete: boolean): (item: Item) => number | undefined };
  /**
   * A run under a notice window: what the policy's rules select now in each target and kind (never acted on by
   * this selection; the run's notice announces it).
   */
  onAnnounce?: (target: Target, kind: Kind, selected: readonly Candidate[]) => void;
  /** More fields for the closing `run finished` line (the HTTP layer's counters), read when the run ends. */
  closingFields?: () => Record<string, unknown>;
}

/** The person asked before a real run (EngineDeps.confirm) said no: nothing was paused or deleted. */
export class RunDeclined extends Error {
  override name = 'RunDeclined';
  constructor(readonly queued: number) {
    super(`not confirmed: nothing was paused or deleted (${queued} item(s) would have gone)`);
  }
}
