import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { HttpCounters } from '../http/types.js';
import type { Outcome } from './outcome.js';
import { kindRows, type RunSummary } from './summary.js';

export interface FailureCounts {
  http400: number;
  http403: number;
}

/** The run report (lib/report): 1 when the mode called for one and it could not be sent, else 0. */
export interface ReportCounts {
  reportsFailed: number;
}

/** The run's archive (lib/archive): 1 when a part of it could not be written (a failed plan ends the run), else 0. */
export interface ArchiveCounts {
  archiveFailed: number;
}

/** Counts 400 and 403 failures (of every kind) as they happen (the summary lists only the first failures per target). */
export function failureCounter(): { counts: FailureCounts; onOutcome: (target: unknown, candidate: unknown, outcome: Outcome) => void } {
  const counts: FailureCounts = { http400: 0, http403: 0 };
  return {
    counts,
    onOutcome: (_target, _candidate, outcome) => {
      if (outcome.kind !== 'failed') return;
      if (outcome.failure.httpStatus === 400) counts.http400 += 1;
      if (outcome.failure.httpStatus === 403) counts.http403 += 1;
    },
  };
}

/**
 * One run's metrics in CloudWatch embedded metric format (namespace and the stage dimension are set on the
 * Metrics instance). The Tasks* metrics are about migration tasks, as always; task groups and sync tasks have their
 * own Deleted and Failed, published by every run (0 included, so that an alarm on their sum clears on a good run).
 * Alarms watch the three Failed metrics, TargetsStopped and TargetsRefused (any kind); dashboards the rest.
 */
export function publishRunMetrics(metrics: Metrics, summary: RunSummary, counters: HttpCounters & FailureCounts & ReportCounts & ArchiveCounts, durationMs: number): void {
  const t = summary.totals;
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  count('TasksListed', t.listed);
  count('TasksSelected', t.selected);
  count('TasksDeleted', t.deleted);
  count('TasksFailed', t.failed);
  count('TasksDeferred', t.deferred);
  count('TaskGroupsDeleted', summary.taskGroups?.deleted ?? 0);
  count('TaskGroupsFailed', summary.taskGroups?.failed ?? 0);
  count('TaskGroupsDeferred', summary.taskGroups?.deferred ?? 0);
  count('SyncTasksDeleted', summary.syncTasks?.deleted ?? 0);
  count('SyncTasksFailed', summary.syncTasks?.failed ?? 0);
  count('SyncTasksDeferred', summary.syncTasks?.deferred ?? 0);
  count('Http400', counters.http400);
  count('Http403', counters.http403);
  count('Throttled', counters.throttled);
  count('HttpRetries', counters.retries);
  // Under a notice window: the items announced and pending after this run (0 without a window).
  count('NoticePending', summary.notice?.pending ?? 0);
  // A target counts when any kind of it was refused or stopped (could not be listed).
  count('TargetsRefused', summary.targets.filter((target) => kindRows(target).some((r) => r.refused)).length);
  count('TargetsStopped', summary.targets.filter((target) => kindRows(target).some((r) => r.error !== undefined)).length);
  count('ReportsFailed', counters.reportsFailed);
  count('ArchiveFailed', counters.archiveFailed);
  metrics.addMetric('RunDuration', MetricUnit.Milliseconds, durationMs);
  metrics.publishStoredMetrics();
}

/** A run that ended before its summary because its plan could not be archived: that alone, for the alarm. */
export function publishArchiveFailure(metrics: Metrics): void {
  metrics.addMetric('ArchiveFailed', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}
