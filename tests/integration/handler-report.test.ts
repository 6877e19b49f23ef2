/**
 * The run report through the real handler: the real SNSClient (loaded on first use) against the emulator's SNS
 * (AWS_ENDPOINT_URL_SNS), the real Secrets Manager client and OMS client against the same emulator. Each describe is
 * a cold start with its own REPORT_MODE (jest.resetModules, then the handler imported again).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { Emulator, PublishedMessage } from '../../emulator/index.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { DAY, PROJECT, deletedIds, emulator, policyText, task, useLoopbackSecretsManager } from '../helpers/harness.js';

const TOKEN = 'TOKEN-REPORT-SHOULD-NOT-LEAK-5c0a2e';
const SECRET_ID = 'janitor/report';
const TOPIC_NAME = 'oms-task-janitor-test-reports';
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:oms-task-janitor-test-purge';
const TOPIC_ARN = `arn:aws:sns:us-east-1:123456789012:${TOPIC_NAME}`;

type Handler = (event: unknown, context: Context) => Promise<RunSummary>;

const context = (remainingMs = 600_000, requestId = 'req-report-0001') =>
  ({ awsRequestId: requestId, functionName: 'oms-task-janitor-test-purge', invokedFunctionArn: FUNCTION_ARN, getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

let emu: Emulator;
const stdout: string[] = [];
const returned: string[] = [];
const saved = { ...process.env };
const dir = mkdtempSync(join(tmpdir(), 'janitor-report-'));

beforeAll(async () => {
  emu = await emulator({ tokens: [TOKEN], secrets: { [SECRET_ID]: JSON.stringify({ type: 'token', token: TOKEN }) } });
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, policyText(emu, `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n  - { name: done, statuses: [succeeded], olderThan: 7d }\n`));
  useLoopbackSecretsManager(emu);
  Object.assign(process.env, { POLICY_FILE: policyFile, STAGE: 'test', OMS_CREDENTIALS_SECRET_ID: SECRET_ID, AWS_ENDPOINT_URL_SNS: emu.url, REPORT_TOPIC: TOPIC_NAME });
  jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => {
    stdout.push(String(chunk));
    return true;
  }) as never);
});
afterAll(async () => {
  await emu.close();
  jest.restoreAllMocks();
  process.env = saved;
});

/** A cold start with this REPORT_MODE: a fresh module graph, so the handler reads its environment anew. */
async function coldStart(mode: string): Promise<Handler> {
  jest.resetModules();
  process.env.REPORT_MODE = mode;
  const { handler } = (await import('../../functions/purge.js')) as { handler: Handler };
  return async (event, ctx) => {
    const summary = await handler(event, ctx);
    returned.push(JSON.stringify(summary));
    return summary;
  };
}

/** Fresh tasks: 5 selected (1, 2 failed 40+ days; 3, 5, 6 succeeded 9+ days), 4 too young; fresh stats, no faults. */
function start(): void {
  emu.setTasks(PROJECT, [task('1', 4, 40 * DAY), task('2', 4, 41 * DAY), task('3', 5, 9 * DAY), task('4', 5, 1 * DAY), task('5', 5, 10 * DAY), task('6', 5, 12 * DAY)]);
  emu.setSnsFault(undefined);
  emu.resetStats();
  stdout.length = 0;
}

/** OMS refuses the deletion of tasks 2 and 5 with 403; task 2's message echoes the token and carries control characters. */
function forbid(): void {
  emu.setTaskFault(PROJECT, '2', { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: `denied for token ${TOKEN}\u001b[2J\nnext` });
  emu.setTaskFault(PROJECT, '5', { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'The IAM user lacks OMS permissions' });
}

function lines(): Record<string, unknown>[] {
  return stdout
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
const emf = () => lines().filter((l) => typeof l._aws === 'object');
const logLine = (message: string) => lines().filter((l) => l.message === message);
const plainText = (m: PublishedMessage) => m.byProtocol?.default ?? m.message;

describe('report: changes (the stage param default)', () => {
  let handler: Handler;
  beforeAll(async () => {
    handler = await coldStart('changes');
  });

  it('a run that deleted and failed sends one report: subject, attributes, the topic completed from the function ARN, every failure, the query', async () => {
    start();
    forbid();
    const summary = await handler({ dryRun: false }, context());
    expect(summary.totals).toMatchObject({ selected: 5, deleted: 3, failed: 2 });
    expect(deletedIds(emu)).toEqual(['1', '3', '6']);

    expect(emu.stats.published).toHaveLength(1);
    const message = emu.stats.published[0]!;
    expect(message.topicArn).toBe(TOPIC_ARN);
    expect(message.subject).toBe('OMS Task Janitor test: 3 deleted, 2 failed');
    expect(message.attributes).toEqual({ stage: { DataType: 'String', StringValue: 'test' }, outcome: { DataType: 'String', StringValue: 'failures' } });
    const body = plainText(message).split('\n');
    expect(body[0]).toBe('OMS Task Janitor, stage test: 3 deleted, 2 failed.');
    expect(body).toContain('main         6         5        3       2         0  ok');
    expect(body).toContain('Failures: 2 (kind, target, id, status when listed, HTTP status, code, message)');
    // The HTTP layer already turned the answer's control characters into spaces; the token is masked.
    expect(body).toContainEqual(expect.stringMatching(/^task +main +2 +failed +403 +APIGW\.0306 +denied for token \[REDACTED\] \[2J next$/));
    expect(body).toContainEqual(expect.stringMatching(/^task +main +5 +succeeded +403 +APIGW\.0306 +The IAM user lacks OMS permissions$/));
    expect(body).toContain('  | filter function_request_id = "req-report-0001" and (ispresent(outcome) or ispresent(summary))');
    // The Chatbot rendition for HTTPS subscribers (AWS Chatbot), the plain text for every other protocol.
    const chat = JSON.parse(message.byProtocol!.https!) as { version: string; source: string; content: { title: string; keywords: string[] } };
    expect(chat).toMatchObject({ version: '1.0', source: 'custom', content: { title: message.subject, keywords: ['test', 'failures'] } });

    expect(logLine('run report sent')).toEqual([expect.objectContaining({ level: 'INFO', outcome: 'failures', topic: TOPIC_ARN, messageId: message.messageId, failuresListed: 2 })]);
    expect(emf()).toEqual([expect.objectContaining({ ReportsFailed: 0, TasksFailed: 2 })]);
  });

  it('a run that changed nothing sends nothing, and neither does a dry run that would delete', async () => {
    start();
    emu.setTasks(PROJECT, [task('4', 5, 1 * DAY)]);
    expect((await handler({ dryRun: false }, context())).totals).toMatchObject({ listed: 1, selected: 0 });
    start();
    expect((await handler({}, context())).totals).toMatchObject({ selected: 5, deleted: 0 });
    expect(emu.stats.calls['sns-publish'] ?? 0).toBe(0);
    expect(emf()).toEqual([expect.objectContaining({ ReportsFailed: 0 })]);
  });

  it.each([
    ['SNS down (500 after the SDK\'s retries)', { kind: 'error', status: 500, code: 'InternalError', message: 'emulated outage' } as const, 'error'],
    ['access denied (403 AuthorizationError)', { kind: 'error', status: 403, code: 'AuthorizationError', message: 'not authorized to perform: SNS:Publish' } as const, 'denied'],
  ])('%s does not fail the run: summary returned, a WARN line, ReportsFailed 1', async (_what, fault, reason) => {
    start();
    forbid();
    emu.setSnsFault(fault);
    const summary = await handler({ dryRun: false }, context());
    expect(summary.totals).toMatchObject({ deleted: 3, failed: 2 });
    expect(emu.stats.calls['sns-publish']).toBeGreaterThanOrEqual(1);
    expect(emu.stats.published).toEqual([]);
    expect(logLine('run report failed')).toEqual([
      expect.objectContaining({ level: 'WARN', reason, outcome: 'failures', topic: TOPIC_ARN, error: expect.objectContaining({ message: expect.stringContaining(fault.message) }) }),
    ]);
    expect(emf()).toEqual([expect.objectContaining({ ReportsFailed: 1, TasksDeleted: 3 })]);
  });

  it('a Publish that never answers ends with the run\'s deadline: the summary comes back before Lambda would cut the run off', async () => {
    start();
    emu.setSnsFault({ kind: 'hang' });
    // 13 s left: no task starts (the engine keeps 30 s in reserve), so all 5 are deferred, which is worth a report;
    // the deadline is 10 s before the end, so everything of the run, the report included, ends 3 s from now.
    const started = Date.now();
    const summary = await handler({ dryRun: false }, context(13_000));
    const tookMs = Date.now() - started;
    expect(summary.totals).toMatchObject({ selected: 5, deleted: 0, deferred: 5 });
    expect(tookMs).toBeGreaterThanOrEqual(2500); // it waited for the answer, up to the deadline
    expect(tookMs).toBeLessThan(8000);
    expect(emu.stats.calls['sns-publish']).toBe(1);
    expect(logLine('run report failed')).toEqual([expect.objectContaining({ level: 'WARN', reason: 'timeout', outcome: 'changes' })]);
    expect(emf()).toEqual([expect.objectContaining({ ReportsFailed: 1 })]);
  });

  it('no secret reached a published message, a log line or a returned summary', () => {
    const text = JSON.stringify(emu.stats.published) + stdout.join('') + returned.join('');
    expect(returned.length).toBeGreaterThan(0);
    expect(text).toContain('[REDACTED]');
    expect(text).not.toContain(TOKEN.slice(0, 12));
  });
});

describe('report: off', () => {
  it('never sends, whatever the run did; ReportsFailed stays 0', async () => {
    const handler = await coldStart('off');
    start();
    forbid();
    expect((await handler({ dryRun: false }, context())).totals).toMatchObject({ deleted: 3, failed: 2 });
    expect(emu.stats.calls['sns-publish'] ?? 0).toBe(0);
    expect(emf()).toEqual([expect.objectContaining({ ReportsFailed: 0, TasksFailed: 2 })]);
  });
});

describe('report: always', () => {
  it('reports a dry run too, with outcome clean', async () => {
    const handler = await coldStart('always');
    start();
    await handler({}, context(600_000, 'req-report-dry'));
    expect(emu.stats.published).toHaveLength(1);
    const message = emu.stats.published[0]!;
    expect(message.subject).toBe('OMS Task Janitor test: dry run, 5 would be deleted');
    expect(message.attributes.outcome).toEqual({ DataType: 'String', StringValue: 'clean' });
    expect(plainText(message)).toContain('req-report-dry (manual, a dry run: nothing was changed)');
  });
});

describe('a bad REPORT_MODE', () => {
  it('fails the cold start with an InputError naming the variable', async () => {
    await expect(coldStart('sometimes')).rejects.toThrow(/^REPORT_MODE: "sometimes" is not one of changes, always, off/);
  });
});

describe('report: every kind in one message', () => {
  it('counts task groups and sync tasks in the subject, has a row per kind, and lists a group failure with its kind', async () => {
    const policyFile = join(dir, 'kinds.yaml');
    writeFileSync(
      policyFile,
      policyText(
        emu,
        `rules:
  - { name: failed, statuses: [failed], olderThan: 30d }
  - { name: groups, kind: taskGroup, statuses: [succeeded], olderThan: 7d }
  - { name: sync, kind: syncTask, statuses: [stopped], olderThan: 30d }
`,
      ),
    );
    process.env.POLICY_FILE = policyFile;
    const handler = await coldStart('changes');
    start();
    const old = Date.now() - 20 * DAY;
    emu.setTaskGroups(PROJECT, [
      { group_id: 'g-old', status: 6, start_time: old, description: 'nightly lists' },
      { group_id: 'g-denied', status: 6, start_time: old, description: 'audit copy' },
    ]);
    emu.setSyncTasks(PROJECT, [{ sync_task_id: 's-retired', status: 'STOPPED', create_time: old - 40 * DAY, last_start_time: old - 20 * DAY }]);
    emu.setTaskFault(PROJECT, 'g-denied', { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'The IAM user lacks OMS permissions' }, 'taskGroup');

    const summary = await handler({ dryRun: false }, context(600_000, 'req-report-kinds'));
    // Task 2's 403 (set above, for every request) still holds: failed tasks 1 and 2, of which 2 fails.
    expect(summary.totals).toMatchObject({ deleted: 1, failed: 1 });
    expect(summary.taskGroups).toMatchObject({ listed: 2, deleted: 1, failed: 1 });
    expect(summary.syncTasks).toMatchObject({ listed: 1, deleted: 1, failed: 0 });

    expect(emu.stats.published).toHaveLength(1);
    const message = emu.stats.published[0]!;
    expect(message.subject).toBe('OMS Task Janitor test: 3 deleted, 2 failed');
    expect(message.attributes.outcome).toEqual({ DataType: 'String', StringValue: 'failures' });
    const body = plainText(message).split('\n');
    expect(body).toContainEqual(expect.stringMatching(/^TARGET +KIND +LISTED +SELECTED +DELETED +FAILED +DEFERRED +STATE$/));
    expect(body).toContainEqual(expect.stringMatching(/^main +taskGroup +2 +2 +1 +1 +0 +ok$/));
    expect(body).toContainEqual(expect.stringMatching(/^main +syncTask +1 +1 +1 +0 +0 +ok$/));
    expect(body).toContainEqual(expect.stringMatching(/^taskGroup +main +g-denied +succeeded +403 +APIGW\.0306 +The IAM user lacks OMS permissions$/));
    expect(emf()).toEqual([expect.objectContaining({ TasksFailed: 1, TaskGroupsFailed: 1, TaskGroupsDeleted: 1, SyncTasksDeleted: 1 })]);
    if (process.env.SHOW_REPORT) process.stderr.write(`Subject: ${message.subject}\n${plainText(message)}\n`);
  });
});
