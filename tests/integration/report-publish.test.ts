/**
 * lib/report's reporter with the real engine and the real SNSClient against the emulator: the limits of a publish
 * (its own timeout, the run's deadline, a topic it cannot address) and what the collector takes from real outcomes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Emulator } from '../../emulator/index.js';
import { Redactor } from '../../lib/log/redact.js';
import { defaultSnsClient } from '../../lib/report/publisher.js';
import { createRunReporter } from '../../lib/report/reporter.js';
import { DAY, PROJECT, capturedLog, emulator, policy, runEngine, task } from '../helpers/harness.js';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:oms-task-janitor-test-reports';
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:oms-task-janitor-test-purge';

describe('run reporter against the emulator', () => {
  let emu: Emulator;
  let client: SNSClient;

  beforeAll(async () => {
    emu = await emulator();
    client = new SNSClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  });
  afterAll(async () => {
    client.destroy();
    await emu.close();
  });
  beforeEach(() => {
    emu.setTasks(PROJECT, [task('11', 4, 40 * DAY), task('12', 4, 41 * DAY), task('13', 5, 1 * DAY)]);
    emu.setSnsFault(undefined);
    emu.resetStats();
  });

  function reporter(env: Record<string, string>, timeoutMs?: number) {
    const captured = capturedLog();
    return { captured, reporter: createRunReporter({ env, stage: 'test', log: captured.log, redactor: new Redactor(), client, timeoutMs }) };
  }

  /** A real run through the engine with the reporter's collector on onOutcome; task 12's delete is refused (403). */
  async function realRun(collector: ReturnType<ReturnType<typeof createRunReporter>['collector']>) {
    emu.setTaskFault(PROJECT, '12', { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'denied' });
    const { summary } = await runEngine(policy(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n'), {}, { onOutcome: collector.onOutcome });
    return summary;
  }

  it('collects from the real engine what the report lists: kind, id, status name, HTTP status, code, message', async () => {
    const { reporter: r } = reporter({ REPORT_MODE: 'changes', REPORT_TOPIC: TOPIC_ARN });
    const collector = r.collector();
    const summary = await realRun(collector);
    expect(collector.collected.failures).toEqual([{ kind: 'task', target: 'main', id: '12', status: 'failed', httpStatus: 403, code: 'APIGW.0306', reason: 'http-error', message: 'denied' }]);
    const result = await r.send(summary, collector.collected, { trigger: 'scheduled', deadline: new AbortController().signal });
    expect(result).toEqual({ status: 'sent', messageId: emu.stats.published[0]?.messageId });
    expect(emu.stats.published[0]).toMatchObject({ topicArn: TOPIC_ARN, subject: 'OMS Task Janitor test: 1 deleted, 1 failed' });
  });

  it('a hanging endpoint is given up after the reporter\'s own timeout, well before a distant deadline', async () => {
    const { reporter: r, captured } = reporter({ REPORT_MODE: 'always', REPORT_TOPIC: TOPIC_ARN }, 300);
    const collector = r.collector();
    const summary = await realRun(collector);
    emu.setSnsFault({ kind: 'hang' });
    const started = Date.now();
    const result = await r.send(summary, collector.collected, { trigger: 'scheduled', deadline: AbortSignal.timeout(60_000) });
    expect(result).toEqual({ status: 'failed', reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(captured.lines).toContainEqual(expect.objectContaining({ level: 'WARN', message: 'run report failed', reason: 'timeout', timeoutMs: 300 }));
  });

  it('a deadline that has already passed sends nothing; a topic name without the function ARN cannot be addressed', async () => {
    const collector = reporter({ REPORT_MODE: 'always', REPORT_TOPIC: TOPIC_ARN }).reporter.collector();
    const summary = await realRun(collector);
    const passed = reporter({ REPORT_MODE: 'always', REPORT_TOPIC: TOPIC_ARN });
    const aborted = AbortSignal.abort();
    expect(await passed.reporter.send(summary, collector.collected, { trigger: 'manual', deadline: aborted })).toEqual({ status: 'failed', reason: 'timeout' });

    const named = reporter({ REPORT_MODE: 'always', REPORT_TOPIC: 'oms-task-janitor-test-reports' });
    expect(await named.reporter.send(summary, collector.collected, { trigger: 'manual', deadline: new AbortController().signal })).toEqual({ status: 'failed', reason: 'topic-unknown' });
    expect(named.captured.lines).toContainEqual(expect.objectContaining({ message: 'run report failed', error: expect.objectContaining({ message: expect.stringContaining("set REPORT_TOPIC to the topic's ARN") }) }));
    expect(emu.stats.calls['sns-publish'] ?? 0).toBe(0);

    // With the function's ARN the same name is addressed in the function's account and region.
    const sent = await named.reporter.send(summary, collector.collected, { trigger: 'manual', deadline: new AbortController().signal, invokedFunctionArn: FUNCTION_ARN });
    expect(sent.status).toBe('sent');
    expect(emu.stats.published.map((m) => m.topicArn)).toEqual([TOPIC_ARN]);
  });

  it('the default client is built once and shared by every later report (warm invocations)', async () => {
    const first = await defaultSnsClient();
    expect(await defaultSnsClient()).toBe(first);
  });
});
