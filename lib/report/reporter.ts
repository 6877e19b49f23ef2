import type { SNSClient } from '@aws-sdk/client-sns';
import type { EventLog } from '../log/types.js';
import type { RunSummary } from '../purge/summary.js';
import { chatbotNotification } from './chatbot.js';
import { reportCollector, type CollectedOutcomes } from './collector.js';
import { runOutcome, shouldReport } from './outcome.js';
import { defaultSnsClient, publishReport } from './publisher.js';
import { renderReport, type ReportContext } from './render.js';
import { parseReportSettings, topicArnFor, type ReportSettings } from './settings.js';

/** A report that could not be sent, and why (`reason`: topic-unknown, timeout, denied, topic-not-found, error). */
export class ReportError extends Error {
  override readonly name = 'ReportError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RunReporterOptions {
  /** REPORT_MODE and REPORT_TOPIC (lib/report/settings.ts), AWS_LAMBDA_LOG_GROUP_NAME. */
  env: Record<string, string | undefined>;
  stage: string;
  log: EventLog;
  /** The handler's Redactor: nothing of a report is sent before it went through it. */
  redactor: { text(value: string): string };
  /** Default: one SNSClient per process, built on the first report (the standard AWS SDK environment applies). */
  client?: Pick<SNSClient, 'send'>;
  /** The longest a publish may take; the run's deadline ends it sooner. Default 10000 ms. */
  timeoutMs?: number;
  /** Default MAX_BODY_BYTES (lib/report/render.ts). */
  maxBodyBytes?: number;
}

export type ReportResult = { status: 'skipped' } | { status: 'sent'; messageId: string } | { status: 'failed'; reason: string };

export interface RunReporter {
  readonly settings: ReportSettings;
  /** A fresh onOutcome hook for one run (what the report needs beyond the summary). */
  collector(): ReturnType<typeof reportCollector>;
  /**
   * Sends the run's report when the mode says so. Never throws and never outlives `deadline` (nor `timeoutMs`): a
   * report that cannot be sent is logged (`run report failed`) and comes back as `failed` for the metric.
   */
  send(summary: RunSummary, collected: CollectedOutcomes, run: { trigger: string; deadline: AbortSignal; invokedFunctionArn?: string }): Promise<ReportResult>;
}

export const DEFAULT_REPORT_TIMEOUT_MS = 10_000;

/** Reads and checks the settings now (cold start): a bad REPORT_MODE or REPORT_TOPIC throws an InputError naming it. */
export function createRunReporter(options: RunReporterOptions): RunReporter {
  const settings = parseReportSettings(options.env);
  const { log, redactor } = options;
  const redact = (text: string) => redactor.text(text);
  const timeoutMs = options.timeoutMs ?? DEFAULT_REPORT_TIMEOUT_MS;
  const logGroup = options.env.AWS_LAMBDA_LOG_GROUP_NAME || `/aws/lambda/oms-task-janitor-${options.stage}-purge`;

  return {
    settings,
    collector: () => reportCollector({ redact }),
    async send(summary, collected, run) {
      if (!shouldReport(settings.mode, summary)) {
        if (settings.mode !== 'off') log.debug('run report skipped', { report: settings.mode, outcome: runOutcome(summary), dryRun: summary.dryRun });
        return { status: 'skipped' };
      }
      const topicArn = topicArnFor(settings.topic, run.invokedFunctionArn);
      let signal: AbortSignal | undefined;
      let outcome: string | undefined;
      try {
        const ctx: ReportContext = { stage: options.stage, logGroup, trigger: run.trigger, redact, maxBodyBytes: options.maxBodyBytes };
        const rendered = renderReport(summary, collected, ctx);
        outcome = rendered.outcome;
        if (topicArn === undefined) {
          throw new ReportError('topic-unknown', `REPORT_TOPIC is a topic name (${settings.topic}) and the invocation has no function ARN to complete it; outside Lambda set REPORT_TOPIC to the topic's ARN`);
        }
        if (run.deadline.aborted) throw new ReportError('timeout', "the run's deadline had passed before the report could be sent");
        signal = AbortSignal.any([run.deadline, AbortSignal.timeout(timeoutMs)]);
        const https = JSON.stringify(chatbotNotification(summary, collected, rendered, ctx));
        const client = options.client ?? (await defaultSnsClient());
        const messageId = await publishReport(client, { topicArn, subject: rendered.subject, text: rendered.body, byProtocol: { https }, attributes: { ...rendered.attributes } }, signal);
        log.info('run report sent', { outcome, topic: topicArn, messageId, subject: rendered.subject, failuresListed: rendered.failuresListed, failuresOmitted: rendered.failuresOmitted });
        return { status: 'sent', messageId };
      } catch (error) {
        const reason = reasonOf(error, signal);
        log.warn('run report failed', { outcome, topic: topicArn ?? settings.topic, reason, error, timeoutMs });
        return { status: 'failed', reason };
      }
    },
  };
}

function reasonOf(error: unknown, signal: AbortSignal | undefined): string {
  if (error instanceof ReportError) return error.reason;
  if (signal?.aborted) return 'timeout';
  const name = error instanceof Error ? error.name : '';
  if (name === 'AuthorizationErrorException') return 'denied';
  if (name === 'NotFoundException') return 'topic-not-found';
  return 'error';
}
