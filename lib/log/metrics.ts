import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { HttpCounters } from '../purge/runtime.js';
import type { Outcome } from '../purge/outcome.js';
import type { RunSummary } from '../purge/summary.js';

export interface FailureCounts {
  http400: number;
  http403: number;
}

/** The run report (lib/report): 1 when the mode called for one and it could not be sent, else 0. */
export interface ReportCounts {
  reportsFailed: number;
}

/** Counts 400 and 403 task failures as they happen (the summary lists only the first failures per target). */
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
 * Metrics instance). Alarms watch TasksFailed; dashboards the rest.
 */
export function publishRunMetrics(metrics: Metrics, summary: RunSummary, counters: HttpCounters & FailureCounts & ReportCounts, durationMs: number): void {
  const t = summary.totals;
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  count('TasksListed', t.listed);
  count('TasksSelected', t.selected);
  count('TasksDeleted', t.deleted);
  count('TasksFailed', t.failed);
  count('TasksDeferred', t.deferred);
  count('Http400', counters.http400);
  count('Http403', counters.http403);
  count('Throttled', counters.throttled);
  count('TargetsRefused', summary.targets.filter((target) => target.refused).length);
  count('TargetsStopped', summary.targets.filter((target) => target.error !== undefined).length);
  count('ReportsFailed', counters.reportsFailed);
  metrics.addMetric('RunDuration', MetricUnit.Milliseconds, durationMs);
  metrics.publishStoredMetrics();
}
