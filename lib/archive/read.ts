import { gunzipSync } from 'node:zlib';
import { parseLossless } from '../oms/json.js';
import type { RunSummary } from '../purge/summary.js';
import { allKindsTotals } from '../purge/summary.js';
import { OUTCOMES_FILE, PLAN_FILE, SUMMARY_FILE } from './run-archive.js';
import { ArchiveError, type ArchiveStore } from './store.js';

/** One archived run, as `archive list` shows it. */
export interface ArchivedRun {
  runId: string;
  /** `YYYY-MM-DD` of the run's start (UTC), from its folder. */
  day: string;
  startedAt?: string;
  finishedAt?: string;
  /** Over every kind; absent when the run has no summary (it ended before writing one). */
  deleted?: number;
  failed?: number;
  deferred?: number;
  /** Which of plan, outcomes and summary are there. */
  files: string[];
}

/** One item of an archived run, as `archive show` shows it: what was planned, its record, what became of it. */
export interface ArchivedItem {
  target: string;
  kind: string;
  id: string;
  name?: string;
  description?: string;
  status: string | null;
  lastActivity: string | null;
  rule: string;
  action: string;
  record: unknown;
  outcome?: Record<string, unknown>;
}

const RUN_FOLDER = /^runs\/(\d{4})\/(\d{2})\/(\d{2})\/([^/]+)\/([^/]+)$/;

/** Every run under the root (newest first), or those of `sinceMs` and after (by their day). */
export async function listRuns(store: ArchiveStore, options: { sinceMs?: number } = {}): Promise<ArchivedRun[]> {
  const sinceDay = options.sinceMs === undefined ? undefined : new Date(options.sinceMs).toISOString().slice(0, 10);
  const runs = new Map<string, ArchivedRun & { prefix: string }>();
  for (const key of await store.list('runs/')) {
    const m = RUN_FOLDER.exec(key);
    if (!m) continue;
    const day = `${m[1]}-${m[2]}-${m[3]}`;
    if (sinceDay !== undefined && day < sinceDay) continue;
    const prefix = key.slice(0, key.length - m[5]!.length);
    const run = runs.get(prefix) ?? runs.set(prefix, { runId: m[4]!, day, files: [], prefix }).get(prefix)!;
    run.files.push(m[5]!);
  }
  const out: ArchivedRun[] = [];
  for (const { prefix, ...run } of runs.values()) {
    run.files.sort();
    if (run.files.includes(SUMMARY_FILE)) {
      const summary = await readJson<RunSummary>(store, prefix + SUMMARY_FILE);
      const totals = allKindsTotals(summary);
      Object.assign(run, { startedAt: summary.startedAt, finishedAt: summary.finishedAt, deleted: totals.deleted, failed: totals.failed, deferred: totals.deferred });
    }
    out.push(run);
  }
  return out.sort((a, b) => (b.startedAt ?? b.day).localeCompare(a.startedAt ?? a.day));
}

/** One run: its plan's header, its items with their records and outcomes, and its summary (when written). */
export async function showRun(store: ArchiveStore, runId: string): Promise<{ run: Record<string, unknown>; items: ArchivedItem[]; summary?: RunSummary }> {
  const keys = (await store.list('runs/')).filter((key) => RUN_FOLDER.exec(key)?.[4] === runId);
  const planKey = keys.find((key) => key.endsWith(`/${PLAN_FILE}`));
  if (planKey === undefined) throw new ArchiveError(`no run ${JSON.stringify(runId)} in the archive at ${store.root}`);
  const prefix = planKey.slice(0, -PLAN_FILE.length);
  // Read without losing precision: a record's int64 ids stay exact (LosslessNumber), as the plan holds them.
  const { items, ...run } = parseLossless(gunzipSync((await store.get(planKey))!).toString('utf8')) as { items: ArchivedItem[] } & Record<string, unknown>;
  const outcomes = new Map<string, Record<string, unknown>>();
  const outcomeBytes = await store.get(prefix + OUTCOMES_FILE);
  if (outcomeBytes) {
    for (const line of gunzipSync(outcomeBytes).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const o = JSON.parse(line) as Record<string, unknown>;
      outcomes.set(`${String(o.target)}\u0000${String(o.kind)}\u0000${String(o.id)}`, o);
    }
  }
  for (const item of items) {
    const outcome = outcomes.get(`${item.target}\u0000${item.kind}\u0000${item.id}`);
    if (outcome) item.outcome = outcome;
  }
  const summary = keys.includes(prefix + SUMMARY_FILE) ? await readJson<RunSummary>(store, prefix + SUMMARY_FILE) : undefined;
  return { run, items, ...(summary ? { summary } : {}) };
}

async function readJson<T>(store: ArchiveStore, key: string): Promise<T> {
  const bytes = await store.get(key);
  if (bytes === undefined) throw new ArchiveError(`${key} is listed in ${store.root} but could not be read`);
  return JSON.parse(bytes.toString('utf8')) as T;
}
