/**
 * The chaos suite's invariants, as a pure function of the labelled fixture and what was observed (the run summary,
 * its outcome log lines, the emulator's end state), so that they can be checked on plain data too.
 */
import type { RunSummary } from '../../lib/purge/summary.js';
import type { TargetFixture } from './chaos-fixture.js';

export interface ChaosObservation {
  summary: RunSummary;
  /** The outcome log lines of failed and deferred tasks: one per task outcome, with its id and target. */
  reported: ReadonlyArray<{ taskId: string; target: string; outcome: 'failed' | 'deferred' }>;
  /** Per project: ids the emulator really deleted, and ids it really moved to pausing (a successful stop). */
  deleted: Readonly<Record<string, readonly string[]>>;
  stopped: Readonly<Record<string, readonly string[]>>;
  /** Per project: tasks the emulator still holds after the run. */
  remaining: Readonly<Record<string, number>>;
  /** DELETEs that reached the emulator while their task was in progress (emulator DELETE_IN_PROGRESS). */
  deletesToInProgress: number;
  maxInFlight: number;
}

export interface InvariantReport {
  /** One line per broken invariant, naming it (a)..(d) and the tasks; empty when all hold. */
  violations: string[];
  wrongDeletions: string[];
  wrongPauses: string[];
  unreported: string[];
  /** Targets whose listing failed (after retries): nothing in them may be touched, and nothing was reported per task. */
  listingFailed: string[];
}

/**
 * (a) no unselected task deleted (nor one beyond the run cap), and none paused (protected tasks are never touched); (b) no DELETE reached a task in
 * progress; (c) every selected task is deleted or reported (a failure in the summary, or a failed/deferred outcome
 * line, with its id) and the summary's counts agree with the emulator's end state; (d) never more than `concurrency`
 * requests in flight at the emulator.
 */
export function checkInvariants(fixtures: readonly TargetFixture[], seen: ChaosObservation, limits: { concurrency: number; maxDeletesPerRun?: number }): InvariantReport {
  const report: InvariantReport = { violations: [], wrongDeletions: [], wrongPauses: [], unreported: [], listingFailed: [] };
  const broken = (line: string) => report.violations.push(line);
  const beyondCap = beyondRunCap(fixtures, limits.maxDeletesPerRun);
  for (const fixture of fixtures) {
    const where = (id: string) => `${fixture.name}/${id}`;
    const selected = new Set(fixture.tasks.filter((t) => t.selected).map((t) => t.id!));
    const mayStop = new Set(fixture.tasks.filter((t) => t.mayStop).map((t) => t.id!));
    const deleted = seen.deleted[fixture.projectId] ?? [];
    const deletedSet = new Set(deleted);

    // (a)
    for (const id of deleted) if (!selected.has(id) || beyondCap.has(`${fixture.projectId}/${id}`)) report.wrongDeletions.push(where(id));
    for (const id of seen.stopped[fixture.projectId] ?? []) if (!mayStop.has(id)) report.wrongPauses.push(where(id));
    if (deletedSet.size !== deleted.length) broken(`(a) ${fixture.name}: a task was deleted twice (${deleted.length} deletions of ${deletedSet.size} ids)`);

    // (c)
    const s = seen.summary.targets.find((target) => target.name === fixture.name);
    if (s === undefined) {
      broken(`(c) ${fixture.name}: no summary for the target`);
      continue;
    }
    const agree = (what: string, actual: number, expected: number) => {
      if (actual !== expected) broken(`(c) ${fixture.name}: summary ${what} is ${actual}, expected ${expected}`);
    };
    agree('deleted (emulator deletions)', s.deleted, deleted.length);
    agree('tasks left (emulator end state: listed - deleted)', seen.remaining[fixture.projectId] ?? -1, fixture.tasks.length - s.deleted);
    if (s.error?.startsWith('listing failed')) {
      report.listingFailed.push(fixture.name);
      agree('deleted after a failed listing', deleted.length, 0);
      continue;
    }
    agree('listed', s.listed, fixture.tasks.length);
    agree('selected', s.selected, selected.size);
    agree('deleted + failed + deferred', s.deleted + s.failed + s.deferred, s.selected);
    const lines = seen.reported.filter((line) => line.target === fixture.name);
    const failedLines = new Set(lines.filter((l) => l.outcome === 'failed').map((l) => l.taskId));
    const deferredLines = new Set(lines.filter((l) => l.outcome === 'deferred').map((l) => l.taskId));
    const failures = new Set(s.failures.map((f) => f.taskId));
    agree('failures listed + omitted', s.failures.length + (s.failuresOmitted ?? 0), s.failed);
    agree('deferred (deferred outcome lines)', s.deferred, deferredLines.size);
    agree('failed (failed outcome lines)', s.failed, failedLines.size);
    for (const id of selected) {
      if (deletedSet.has(id)) {
        if (failures.has(id) || deferredLines.has(id) || failedLines.has(id)) broken(`(c) ${where(id)}: reported failed or deferred, but the emulator deleted it`);
        continue;
      }
      const inSummary = failures.has(id) || (s.failuresOmitted !== undefined && failedLines.has(id));
      if (!inSummary && !deferredLines.has(id)) report.unreported.push(where(id));
    }
  }
  if (report.wrongDeletions.length) broken(`(a) unselected tasks deleted: ${report.wrongDeletions.join(', ')}`);
  if (report.wrongPauses.length) broken(`(a) tasks paused that were not selected for stopFirst: ${report.wrongPauses.join(', ')}`);
  if (seen.deletesToInProgress > 0) broken(`(b) ${seen.deletesToInProgress} DELETE(s) reached a task in progress`);
  if (report.unreported.length) broken(`(c) selected tasks neither deleted nor reported: ${report.unreported.join(', ')}`);
  if (seen.maxInFlight > limits.concurrency) broken(`(d) ${seen.maxInFlight} requests in flight at once, concurrency ${limits.concurrency}`);
  return report;
}

/**
 * Selected tasks a run cap leaves for later (`project/id`): over all targets the oldest go first, so every task
 * strictly newer than the cap-th oldest selected one is beyond it (ties at the boundary are given the benefit).
 */
function beyondRunCap(fixtures: readonly TargetFixture[], cap: number | undefined): Set<string> {
  const selected = fixtures.flatMap((f) => f.tasks.filter((t) => t.selected).map((t) => ({ key: `${f.projectId}/${t.id!}`, at: t.lastActivityMs ?? 0 })));
  if (cap === undefined || selected.length <= cap) return new Set();
  selected.sort((a, b) => a.at - b.at);
  const boundary = selected[cap - 1]!.at;
  return new Set(selected.filter((t) => t.at > boundary).map((t) => t.key));
}
