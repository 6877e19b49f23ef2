import { gzipSync } from 'node:zlib';
import type { EventLog } from '../log/types.js';
import { statusName, type Kind } from '../oms/kinds.js';
import { plannedAction } from '../purge/manifest.js';
import type { Item } from '../oms/item.js';
import type { Candidate, Target } from '../policy/types.js';
import type { Outcome } from '../purge/outcome.js';
import type { RunRecorder } from '../purge/engine.js';
import type { RunSummary } from '../purge/summary.js';
import { RECORD_SLACK, RecordKeeper, redactedValue } from './records.js';
import { ArchiveError, type ArchiveStore } from './store.js';

export const ARCHIVE_PLAN_KIND = 'oms-task-janitor/archive-plan';
export const PLAN_FILE = 'plan.json.gz';
export const OUTCOMES_FILE = 'outcomes.jsonl.gz';
export const SUMMARY_FILE = 'summary.json';
/** Run ids become a path segment: the CLI's UUIDs and Lambda's request ids are of this form. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `runs/YYYY/MM/DD/<runId>/` of a run that started at `startedAtMs` (UTC). */
export function runPrefix(runId: string, startedAtMs: number): string {
  if (!RUN_ID.test(runId)) throw new ArchiveError(`run id ${JSON.stringify(runId)} cannot name an archive folder`);
  const day = new Date(startedAtMs).toISOString().slice(0, 10).replace(/-/g, '/');
  return `runs/${day}/${runId}/`;
}

export interface RunArchiveOptions {
  runId: string;
  startedAtMs: number;
  /** What started the run: `cli purge`, `cli apply`, `scheduled`, `manual`. */
  trigger: string;
  policySha256: string;
  /** The run's targets (the archive says where each item lived). */
  targets: readonly Target[];
  /** The run's redaction of known secret values (records, error messages and the summary pass through it). */
  redact: (text: string) => string;
  log: EventLog;
  clock?: () => number;
}

/**
 * The archive of one real run (docs/behaviour.md "Archive"): before the first pause or delete, `plan.json.gz` with the
 * run's queue and each item's full record as OMS listed it; when the run ends, `outcomes.jsonl.gz` (one line per item
 * of the plan) and `summary.json`. The engine calls it as its RunRecorder; the entry point calls `finish`.
 */
export class RunArchive implements RunRecorder {
  readonly prefix: string;
  readonly #store: ArchiveStore;
  readonly #options: RunArchiveOptions;
  readonly #keepers = new Map<string, RecordKeeper>();
  /** `target\0kind\0id` of every item in the plan: outcomes are archived for these only. */
  readonly #planned = new Set<string>();
  readonly #outcomes: string[] = [];

  constructor(store: ArchiveStore, options: RunArchiveOptions) {
    this.#store = store;
    this.#options = options;
    this.prefix = runPrefix(options.runId, options.startedAtMs);
  }

  get root(): string {
    return this.#store.root;
  }

  itemSink(target: Target, kind: Kind, accepts: (item: Item) => boolean, cap: number): (item: Item, raw: unknown) => void {
    const keeper = new RecordKeeper(accepts, cap + RECORD_SLACK, this.#options.redact);
    this.#keepers.set(laneKey(target.name, kind), keeper);
    return keeper.consider;
  }

  /**
   * Writes `plan.json.gz`. Resolves to the candidates whose record was not kept (not archived: the run must not act on
   * them); rejects with an ArchiveError when the plan could not be written (the run must act on nothing).
   */
  async beforeChanges(queue: readonly { target: Target; candidate: Candidate }[]): Promise<ReadonlySet<Candidate>> {
    const missing = new Set<Candidate>();
    const items: string[] = [];
    for (const { target, candidate } of queue) {
      const { item } = candidate;
      const record = this.#keepers.get(laneKey(target.name, item.kind))?.recordOf(item.id);
      if (record === undefined) {
        missing.add(candidate);
        continue;
      }
      this.#planned.add(itemKey(target.name, item.kind, item.id));
      items.push(`{${JSON.stringify(describe(target, candidate)).slice(1, -1)},"record":${record}}`);
    }
    const targets = this.#options.targets.map((t) => ({ name: t.name, projectId: t.projectId, region: t.region, endpoint: t.endpoint }));
    const head = {
      kind: ARCHIVE_PLAN_KIND,
      version: 1,
      runId: this.#options.runId,
      startedAt: new Date(this.#options.startedAtMs).toISOString(),
      writtenAt: new Date((this.#options.clock ?? Date.now)()).toISOString(),
      trigger: this.#options.trigger,
      policySha256: this.#options.policySha256,
      targets,
      ...(missing.size > 0 ? { notArchived: missing.size } : {}),
    };
    const text = `${JSON.stringify(head).slice(0, -1)},"items":[\n${items.join(',\n')}\n]}\n`;
    try {
      await this.#store.put(this.prefix + PLAN_FILE, gzipSync(text), 'application/gzip');
    } catch (cause) {
      throw new ArchiveError(`the run's plan could not be archived to ${this.#store.root} (${describeError(cause)}): nothing was paused or deleted`, { cause });
    }
    this.#options.log.info('run archived', { root: this.#store.root, key: this.prefix + PLAN_FILE, items: items.length, ...(missing.size ? { notArchived: missing.size } : {}) });
    // The keepers' records are in the plan now; the lists can go.
    this.#keepers.clear();
    return missing;
  }

  /** An item's outcome (the engine's onOutcome): kept when the item is in the plan. */
  onOutcome(target: Target, candidate: Candidate, outcome: Outcome): void {
    const { item } = candidate;
    if (!this.#planned.has(itemKey(target.name, item.kind, item.id))) return;
    const at = new Date((this.#options.clock ?? Date.now)()).toISOString();
    const base = { target: target.name, kind: item.kind, id: item.id, outcome: outcome.kind };
    let line: Record<string, unknown>;
    switch (outcome.kind) {
      case 'deleted':
        line = { ...base, ...(outcome.alreadyGone ? { detail: 'already-gone' } : {}), ...(outcome.paused ? { paused: true } : {}), at };
        break;
      case 'deferred':
        line = { ...base, reason: outcome.reason, ...(outcome.leftPaused ? { detail: 'paused-not-deleted' } : {}), ...(outcome.attempted ? { attempted: true } : {}), at };
        break;
      case 'failed': {
        const f = outcome.failure;
        line = { ...base, reason: f.reason, httpStatus: f.httpStatus, errorCode: f.errorCode, errorMsg: f.errorMsg, ...(f.requestId ? { requestId: f.requestId } : {}), at };
        break;
      }
      default:
        line = { ...base, at };
    }
    this.#outcomes.push(JSON.stringify(redactedValue(line, this.#options.redact)));
  }

  /**
   * Writes `outcomes.jsonl.gz` and `summary.json`. Never throws: a failure is logged (`archive failed`) and reported
   * as false, and the run's own outcome stands.
   */
  async finish(summary: RunSummary): Promise<boolean> {
    try {
      await this.#store.put(this.prefix + OUTCOMES_FILE, gzipSync(this.#outcomes.length ? `${this.#outcomes.join('\n')}\n` : ''), 'application/gzip');
      await this.#store.put(this.prefix + SUMMARY_FILE, Buffer.from(`${JSON.stringify(redactedValue(summary, this.#options.redact), null, 2)}\n`), 'application/json');
      return true;
    } catch (error) {
      this.#options.log.error('archive failed', { root: this.#store.root, key: this.prefix, stage: 'outcomes', reason: describeError(error) });
      return false;
    }
  }
}

/** What a person reads about an archived item, beside its record. */
function describe(target: Target, candidate: Candidate): Record<string, unknown> {
  const { item } = candidate;
  return {
    target: target.name,
    projectId: target.projectId,
    region: target.region,
    kind: item.kind,
    id: item.id,
    ...(item.kind === 'task' ? { name: item.name } : { description: item.description ?? '', sourceBucket: item.srcBucket ?? '', destinationBucket: item.dstBucket ?? '' }),
    status: statusName(item.kind, item.status) ?? null,
    lastActivity: item.lastActivityMs === null ? null : new Date(item.lastActivityMs).toISOString(),
    rule: candidate.rule,
    action: plannedAction(item.kind, item.status),
  };
}

function laneKey(target: string, kind: Kind): string {
  return `${target}\u0000${kind}`;
}

function itemKey(target: string, kind: Kind, id: string): string {
  return `${target}\u0000${kind}\u0000${id}`;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
