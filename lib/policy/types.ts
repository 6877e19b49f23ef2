import type { Item } from '../oms/item.js';
import type { Kind } from '../oms/kinds.js';

/** A validated, normalised retention policy (see the README's "Retention policy file"). */
export interface Policy {
  version: 1;
  targets: Target[];
  rules: Rule[];
  protect: Protect;
  limits: Limits;
  /** Requests in flight at once, 1..64. Default 8. */
  concurrency: number;
  /** One rate budget shared by every request of the run; undefined = unlimited. */
  requestsPerSecond?: number;
  /** Default false; true makes every run of this policy a dry run. */
  dryRun: boolean;
}

export interface Target {
  /** Unique label used in logs and the summary. */
  name: string;
  projectId: string;
  region: string;
  /** Base URL of OMS, no trailing slash: the policy's `endpoint`, or https://oms.{region}.myhuaweicloud.com. */
  endpoint: string;
  /** This target's own credentials (another account); absent = the run's credentials. */
  credentials?: { secretId: string };
}

export interface Rule {
  name: string;
  /** What the rule deletes: `task` (the default), `taskGroup` or `syncTask`. */
  kind: Kind;
  /** Status names of the rule's kind (lib/oms/kinds.ts). */
  statuses: string[];
  /** The duration as written (`7d`), for logs and tables. */
  olderThan: string;
  olderThanMs: number;
  /**
   * Only items in progress whose listed progress counters have not moved for this long, across the runs recorded in
   * the archive root (lib/archive/progress.ts). An item seen for the first time is never stuck. Absent: age only.
   */
  noProgressFor?: string;
  noProgressForMs?: number;
  /** Default 0. */
  keepLatest: number;
  /** Tasks: a glob on the name. */
  namePattern?: string;
  /** Task groups and sync tasks (which have no name): globs on the description and the buckets. */
  descriptionPattern?: string;
  sourceBucketPattern?: string;
  destinationBucketPattern?: string;
  /** Default false. Required true when `statuses` names an in-progress status. */
  stopFirst: boolean;
}

export interface Protect {
  /** Tasks: globs on the name. */
  names: string[];
  taskIds: string[];
  /** Default true: tasks whose group_type is present and not NORMAL_TASK are left alone. */
  groupTasks: boolean;
  taskGroupIds: string[];
  syncTaskIds: string[];
  /** Task groups and sync tasks: globs on the description. */
  descriptions: string[];
  /** Task groups and sync tasks: globs on the source OR the destination bucket (either protects). */
  buckets: string[];
}

export interface Limits {
  /** Default 1000, over all targets; the oldest go first, the rest are deferred. */
  maxDeletesPerRun: number;
  /** Default 100: a target whose selection exceeds this share of its listed tasks is refused. */
  maxDeletePercent: number;
  /**
   * Default 20: maxDeletePercent is judged for a kind of a target only when more than this many of that kind are
   * selected (a share of a handful says nothing: 1 of 1 sync task is 100%). 0 judges every selection.
   */
  percentFloor: number;
  /** Default 10m: how long to wait for a paused state after stopFirst. */
  stopTimeoutMs: number;
}

/** Per-run choices that change selection (CLI flags, manual Lambda events). */
export interface SelectionOptions {
  /** Explicit purge: exactly these listed tasks, no rule needs to match (ages ignored); protection and keepLatest
   * windows still apply. */
  taskIds?: string[];
  /** With taskIds: in-progress tasks may be selected (they are paused first). */
  stopFirst?: boolean;
  /** Skip the maxDeletePercent refusal (the engine decides it per kind: `--force` or `--force syncTask`). */
  force?: boolean;
  /**
   * Applying a manifest (lib/purge/manifest.ts): this target's planned items of the listing's kind, by id. Only these
   * may be selected, each only if it is listed unchanged (what rules match on, status, last activity) and the current
   * policy selects it as it is now (a rule matches, stopFirst for an in-progress one, no protection or window keeps it).
   */
  planned?: ReadonlyMap<string, PlannedTask>;
  /**
   * Ids of this listing's kind (task groups, sync tasks) that are protected because a member task of theirs is
   * protected by id or name (lib/purge/engine.ts membersHeld). Counted as protected.
   */
  heldIds?: ReadonlySet<string>;
  /**
   * Since when an item in progress has listed the same progress counters, across the runs recorded in the archive
   * root (lib/archive/progress.ts); undefined for a first sighting or an item without counters. Rules with
   * `noProgressFor` match only with it.
   */
  stalledSince?: (item: Item) => number | undefined;
}

/** A target's planned items, by kind, then id (lib/purge/manifest.ts plannedByTarget). */
export type PlannedItems = ReadonlyMap<Kind, ReadonlyMap<string, PlannedTask>>;

/** One item of a manifest, as selection compares it with the fresh listing. */
export interface PlannedTask {
  /** What rules and protections match on, as planned: the name (tasks), description and buckets (other kinds). */
  name: string;
  description?: string;
  srcBucket?: string;
  dstBucket?: string;
  /** A status name of the item's kind. */
  status: string;
  lastActivityMs: number;
}

/** An item (of any kind) with a valid id whose deletion the selection decided. */
export interface Candidate {
  item: Item & { id: string };
  /** The first rule (policy order) that matched, or `task-id` for an explicit purge. */
  rule: string;
  lastActivityMs: number;
}

/**
 * Why a listed item was not judged or not taken: malformed-id, unknown-status, unknown-age (a rule is about its
 * status), in-progress-without-stop-first; applying a manifest also changed-since-plan (not listed as planned) and
 * no-rule-now (no rule of the current policy selects it as it is now).
 */
export type SkipReason = 'malformed-id' | 'unknown-status' | 'unknown-age' | 'in-progress-without-stop-first' | 'changed-since-plan' | 'no-rule-now';

/** The outcome of `select` for one listing (one kind in one target). Every listed item falls in exactly one bucket. */
export interface TargetSelection {
  listed: number;
  /** Oldest last activity first; ties: smaller id first. When refused, still lists what would have gone (for
   * reports); nothing in it may be touched. */
  selected: Candidate[];
  protected: number;
  /** Matched a rule (or named by an explicit purge) but kept by a keepLatest window. */
  kept: number;
  skipped: { idText: string; reason: SkipReason }[];
  /** Blast radius: the selection exceeded maxDeletePercent and the run was not forced. Nothing may be touched. */
  refused: boolean;
  /** Only when the selection exceeded maxDeletePercent (refused, or let through by force): by how much, in words. */
  overLimit?: string;
}
