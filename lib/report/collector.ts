import { statusName } from '../oms/kinds.js';
import type { Candidate, Target } from '../policy/types.js';
import type { Outcome } from '../purge/outcome.js';

/** One failed deletion (or stopFirst pause) as the report lists it. */
export interface ReportFailure {
  /** What kind of thing failed: `task`, `taskGroup` or `syncTask`. */
  kind: string;
  target: string;
  id: string;
  /** The status name when the run listed it (`succeeded`), or the raw code when unknown. */
  status: string;
  /** 0 when there was no HTTP answer (timeout, connection, stop-timeout). */
  httpStatus: number;
  /** OMS / API Gateway error code; empty when the answer had none. */
  code: string;
  /** http-error | redirect | stop-timeout | timeout | connection | invalid-response | error */
  reason: string;
  /** Already redacted and cut to MAX_MESSAGE_CHARS. */
  message: string;
}

/** What the engine's outcomes tell a report beyond the summary: each failure's kind and status, deferral reasons. */
export interface CollectedOutcomes {
  /** The first `maxFailures` failures, in the order they happened. */
  failures: ReportFailure[];
  /** Failures after those (counted, not kept: the logs have every one). */
  failuresNotKept: number;
  /** Deferred items (of every kind) by reason (run-cap, time-budget, …). */
  deferredByReason: Record<string, number>;
}

export interface CollectorOptions {
  /** Failures kept in memory for the report. Default 500. */
  maxFailures?: number;
  /** Applied to every message before it is cut, so a cut never leaves part of a secret unrecognised. */
  redact?: (text: string) => string;
}

export const DEFAULT_MAX_REPORT_FAILURES = 500;
/** A failure message longer than this is cut (OMS messages are a sentence; ours say which kind of failure). */
export const MAX_MESSAGE_CHARS = 300;

/** The engine's onOutcome hook for one run, and what it collected. Memory stays bounded whatever the run's size. */
export function reportCollector(options: CollectorOptions = {}): {
  collected: CollectedOutcomes;
  onOutcome: (target: Target, candidate: Candidate, outcome: Outcome) => void;
} {
  const maxFailures = options.maxFailures ?? DEFAULT_MAX_REPORT_FAILURES;
  const redact = options.redact ?? ((text: string) => text);
  const collected: CollectedOutcomes = { failures: [], failuresNotKept: 0, deferredByReason: {} };
  return {
    collected,
    onOutcome: (target, candidate, outcome) => {
      if (outcome.kind === 'deferred') {
        collected.deferredByReason[outcome.reason] = (collected.deferredByReason[outcome.reason] ?? 0) + 1;
        return;
      }
      if (outcome.kind !== 'failed') return;
      if (collected.failures.length >= maxFailures) {
        collected.failuresNotKept += 1;
        return;
      }
      const { failure } = outcome;
      const message = redact(failure.errorMsg);
      collected.failures.push({
        kind: candidate.item.kind,
        target: target.name,
        id: candidate.item.id,
        status: statusName(candidate.item.kind, candidate.item.status) ?? String(candidate.item.status),
        httpStatus: failure.httpStatus,
        code: failure.errorCode,
        reason: failure.reason,
        message: message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message,
      });
    },
  };
}
