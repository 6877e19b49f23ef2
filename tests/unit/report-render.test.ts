import { describe, expect, it } from '@jest/globals';
import { Redactor } from '../../lib/log/redact.js';
import type { Candidate, Target } from '../../lib/policy/types.js';
import type { Outcome } from '../../lib/purge/outcome.js';
import { emptyTotals, type RunSummary, type TargetSummary } from '../../lib/purge/summary.js';
import { chatbotNotification, MAX_CHAT_DESCRIPTION_CHARS } from '../../lib/report/chatbot.js';
import { MAX_MESSAGE_CHARS, reportCollector, type CollectedOutcomes, type ReportFailure } from '../../lib/report/collector.js';
import { runOutcome, shouldReport } from '../../lib/report/outcome.js';
import { messageDocument } from '../../lib/report/publisher.js';
import { MAX_BODY_BYTES, renderReport, type ReportContext } from '../../lib/report/render.js';
import { parseReportSettings, topicArnFor } from '../../lib/report/settings.js';

const SECRET = 'SK-REPORT-SHOULD-NOT-LEAK-7d21e0';
const redactor = new Redactor();
redactor.add(SECRET);
const ctx: ReportContext = { stage: 'prod', logGroup: '/aws/lambda/oms-task-janitor-prod-purge', trigger: 'scheduled', redact: (t) => redactor.text(t) };

function target(name: string, counts: Partial<TargetSummary> = {}): TargetSummary {
  return { name, projectId: 'p', listed: 0, selected: 0, deleted: 0, failed: 0, deferred: 0, refused: false, truncated: false, failures: [], ...counts };
}

function summaryOf(targets: TargetSummary[], extra: Partial<RunSummary> = {}): RunSummary {
  const totals = emptyTotals();
  for (const t of targets) for (const key of ['listed', 'selected', 'deleted', 'failed', 'deferred'] as const) totals[key] += t[key];
  return { runId: 'c0ffee00-1111-2222-3333-444455556666', dryRun: false, startedAt: '2025-03-01T00:15:00.000Z', finishedAt: '2025-03-01T00:16:02.500Z', totals, targets, ...extra };
}

function failure(id: string, extra: Partial<ReportFailure> = {}): ReportFailure {
  return { kind: 'task', target: 'beijing4', id, status: 'succeeded', httpStatus: 403, code: 'APIGW.0306', reason: 'http-error', message: 'denied', ...extra };
}

const none: CollectedOutcomes = { failures: [], failuresNotKept: 0, deferredByReason: {} };

describe('settings (REPORT_MODE, REPORT_TOPIC), checked at cold start', () => {
  it('reads the three modes; unset means off (only a handler outside serverless.yml has no REPORT_MODE)', () => {
    expect(parseReportSettings({})).toEqual({ mode: 'off', topic: '' });
    expect(parseReportSettings({ REPORT_MODE: 'off', REPORT_TOPIC: '' })).toEqual({ mode: 'off', topic: '' });
    expect(parseReportSettings({ REPORT_MODE: ' changes ', REPORT_TOPIC: 'oms-task-janitor-prod-reports' })).toEqual({ mode: 'changes', topic: 'oms-task-janitor-prod-reports' });
    const arn = 'arn:aws-cn:sns:cn-north-1:123456789012:reports';
    expect(parseReportSettings({ REPORT_MODE: 'always', REPORT_TOPIC: arn })).toEqual({ mode: 'always', topic: arn });
  });

  it.each([
    [{ REPORT_MODE: 'sometimes', REPORT_TOPIC: 't' }, /^REPORT_MODE: "sometimes" is not one of changes, always, off \(the stage param `report`/],
    [{ REPORT_MODE: 'Changes', REPORT_TOPIC: 't' }, /^REPORT_MODE: "Changes" is not one of/],
    [{ REPORT_MODE: 'changes' }, /^REPORT_TOPIC: is not set/],
    [{ REPORT_MODE: 'always', REPORT_TOPIC: 'https://sns.example/topic' }, /^REPORT_TOPIC: "https:\/\/sns\.example\/topic" is neither an SNS topic name nor a topic ARN/],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => parseReportSettings(env)).toThrow(expect.objectContaining({ name: 'InputError', message: expect.stringMatching(message) }));
  });

  it('completes a topic name from the function ARN (partition, region, account); an ARN is used as it is', () => {
    expect(topicArnFor('r', 'arn:aws:lambda:ap-southeast-1:111122223333:function:oms-task-janitor-prod-purge')).toBe('arn:aws:sns:ap-southeast-1:111122223333:r');
    expect(topicArnFor('r', 'arn:aws-cn:lambda:cn-north-1:111122223333:function:f:live')).toBe('arn:aws-cn:sns:cn-north-1:111122223333:r');
    expect(topicArnFor('arn:aws:sns:us-east-1:123456789012:x', undefined)).toBe('arn:aws:sns:us-east-1:123456789012:x');
    expect(topicArnFor('r', undefined)).toBeUndefined();
    expect(topicArnFor('r', 'not-an-arn')).toBeUndefined();
  });
});

describe('outcome attribute and when a report is sent', () => {
  const cases: [string, string, RunSummary][] = [
    ['a failed task', 'failures', summaryOf([target('a', { deleted: 5, failed: 1 }), target('b', { refused: true })])],
    ['a stopped target', 'failures', summaryOf([target('a', { error: 'listing failed: HTTP 403' })])],
    ['a refused target', 'refused', summaryOf([target('a', { deleted: 3 }), target('b', { refused: true })])],
    ['deletions', 'changes', summaryOf([target('a', { deleted: 3 })])],
    ['deferrals only', 'changes', summaryOf([target('a', { deferred: 2 })])],
    ['nothing', 'clean', summaryOf([target('a', { listed: 9 })])],
    ['a dry run that would delete and defer', 'clean', summaryOf([target('a', { selected: 9, deferred: 2 })], { dryRun: true })],
  ];
  it.each(cases)('%s: outcome %s', (_what, outcome, summary) => {
    expect(runOutcome(summary)).toBe(outcome);
  });

  it('changes: real runs that are not clean; always: every run; off: none', () => {
    const sent = (mode: 'changes' | 'always' | 'off') => cases.filter(([, , s]) => shouldReport(mode, s)).map(([what]) => what);
    expect(sent('changes')).toEqual(['a failed task', 'a stopped target', 'a refused target', 'deletions', 'deferrals only']);
    expect(sent('always')).toEqual(cases.map(([what]) => what));
    expect(sent('off')).toEqual([]);
  });
});

describe('collector: the onOutcome hook', () => {
  const t = { name: 'beijing4' } as Target;
  const candidate = (id: string, status: number | string | null, kind = 'task') => ({ item: { kind, id, status }, rule: 'r', lastActivityMs: 0 }) as unknown as Candidate;
  const failed = (errorMsg: string, httpStatus = 403): Outcome => ({ kind: 'failed', failure: { taskId: 'x', httpStatus, errorCode: 'APIGW.0306', errorMsg, reason: 'http-error' } });

  it('keeps kind, id, status name, code and message per failure, and counts deferrals by reason', () => {
    const c = reportCollector();
    c.onOutcome(t, candidate('1', 5), failed('denied'));
    c.onOutcome(t, candidate('2', 42), failed('odd', 400));
    c.onOutcome(t, candidate('3', 4), { kind: 'deferred', reason: 'run-cap' });
    c.onOutcome(t, candidate('4', 4), { kind: 'deferred', reason: 'run-cap' });
    c.onOutcome(t, candidate('5', 2), { kind: 'deferred', reason: 'time-budget' });
    c.onOutcome(t, candidate('6', 5), { kind: 'deleted', alreadyGone: false, paused: false });
    expect(c.collected).toEqual({
      failures: [
        { kind: 'task', target: 'beijing4', id: '1', status: 'succeeded', httpStatus: 403, code: 'APIGW.0306', reason: 'http-error', message: 'denied' },
        { kind: 'task', target: 'beijing4', id: '2', status: '42', httpStatus: 400, code: 'APIGW.0306', reason: 'http-error', message: 'odd' },
      ],
      failuresNotKept: 0,
      deferredByReason: { 'run-cap': 2, 'time-budget': 1 },
    });
  });

  it("kind is data: each failure says its item's kind, and its status by that kind's names", () => {
    const c = reportCollector();
    c.onOutcome(t, candidate('g-1', 5, 'taskGroup'), failed('a'));
    c.onOutcome(t, candidate('2', 5), failed('b'));
    c.onOutcome(t, candidate('s-1', 'SYNCHRONIZING', 'syncTask'), failed('c'));
    expect(c.collected.failures.map((f) => [f.kind, f.status])).toEqual([['taskGroup', 'failed'], ['task', 'succeeded'], ['syncTask', 'synchronizing']]);
  });

  it('keeps at most maxFailures, counts the rest; redacts a message before cutting it', () => {
    const c = reportCollector({ maxFailures: 2, redact: (x) => redactor.text(x) });
    // The secret straddles the cut: cut first, only its head (under 12 characters) would remain and pass redaction.
    const long = `${'x'.repeat(MAX_MESSAGE_CHARS - 6)}${SECRET}`;
    for (const id of ['1', '2', '3', '4']) c.onOutcome(t, candidate(id, 5), failed(long));
    expect(c.collected.failures).toHaveLength(2);
    expect(c.collected.failuresNotKept).toBe(2);
    expect(c.collected.failures[0]!.message.length).toBe(MAX_MESSAGE_CHARS);
    expect(c.collected.failures[0]!.message).not.toContain(SECRET.slice(0, 4));
  });
});

describe('renderReport', () => {
  const run = summaryOf([target('beijing4', { listed: 120, selected: 100, deleted: 98, failed: 2 }), target('shanghai1', { listed: 300, selected: 200, refused: true })]);
  const collected: CollectedOutcomes = { failures: [failure('191297407830872'), failure('191297407830873', { httpStatus: 0, code: '', reason: 'timeout', message: 'no answer within 15000 ms', status: 'failed' })], failuresNotKept: 0, deferredByReason: {} };

  it('subject, attributes, the per-target table, every failure and the Logs Insights query for the run', () => {
    const r = renderReport(run, collected, ctx);
    expect(r.subject).toBe('OMS Task Janitor prod: 98 deleted, 2 failed, 1 target refused');
    expect(r.attributes).toEqual({ stage: 'prod', outcome: 'failures' });
    const lines = r.body.split('\n');
    expect(lines).toContain('TARGET     LISTED  SELECTED  DELETED  FAILED  DEFERRED  STATE');
    expect(lines).toContain('beijing4      120       100       98       2         0  ok');
    expect(lines).toContain('shanghai1     300       200        0       0         0  refused');
    expect(lines).toContain('TOTAL         420       300       98       2         0');
    expect(lines).toContain('task  beijing4  191297407830872  succeeded   403  APIGW.0306  denied');
    expect(lines).toContain('task  beijing4  191297407830873  failed        -  timeout     no answer within 15000 ms');
    expect(r.body).toContain('| filter function_request_id = "c0ffee00-1111-2222-3333-444455556666" and (ispresent(outcome) or ispresent(summary))');
    expect(r.body).toContain('/aws/lambda/oms-task-janitor-prod-purge');
    expect(r).toMatchObject({ failuresListed: 2, failuresOmitted: 0 });
  });

  it('a dry run says so; deferral reasons are counted', () => {
    const dry = summaryOf([target('a', { listed: 10, selected: 7, deferred: 3 })], { dryRun: true });
    const r = renderReport(dry, { ...none, deferredByReason: { 'run-cap': 3 } }, ctx);
    expect(r.subject).toBe('OMS Task Janitor prod: dry run, 7 would be deleted, 3 deferred');
    expect(r.body).toContain('a dry run: nothing was changed');
    expect(r.body).toContain('Deferred: 3, a real run would leave them for the next run (run-cap 3).');
    expect(r.attributes.outcome).toBe('clean');
  });

  it('the subject stays printable ASCII under 100 characters, whatever the stage and the numbers', () => {
    const many = summaryOf(Array.from({ length: 40 }, (_, i) => target(`t${i}`, { deleted: 1e9, failed: 1e9, deferred: 1e9, refused: i % 2 === 0, error: i % 2 ? 'x' : undefined })));
    for (const stage of ['prod', 'a-very-long-stage-name-'.repeat(5), 'pr\nod\u001b[31m\u202eé']) {
      const { subject } = renderReport(many, none, { ...ctx, stage });
      expect(subject.length).toBeLessThan(100);
      expect(subject).toMatch(/^[\x21-\x7e][\x20-\x7e]*$/);
    }
    expect(renderReport(many, none, { ...ctx, stage: 'pr\nod' }).subject).toMatch(/^OMS Task Janitor pr\?od: /);
  });

  it('control and bidi characters from servers and names are shown as escapes; one line per failure', () => {
    const hostile = failure('7', { message: 'line1\nline2\u001b[2J\u202eevil\ttab', code: 'OMS\u0007.1' });
    const r = renderReport(summaryOf([target('t\u001b[31m', { failed: 1, error: 'stopped:\r\nfake line' })]), { ...none, failures: [hostile] }, ctx);
    expect(r.body).toContain('line1\\x0aline2\\x1b[2J\\u202eevil\\x09tab');
    expect(r.body).toContain('OMS\\x07.1');
    expect(r.body).toContain('t\\x1b[31m');
    expect(r.body).toContain('stopped:\\x0d\\x0afake line');
    expect(r.body).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  it('caps the failures listed: the rest are counted and pointed to the logs, and the body stays within its budget', () => {
    const failures = Array.from({ length: 500 }, (_, i) => failure(String(1e14 + i), { message: `denied ${'m'.repeat(250)}` }));
    const big = summaryOf([target('beijing4', { failed: 5000 })]);
    const r = renderReport(big, { failures, failuresNotKept: 4500, deferredByReason: {} }, ctx);
    expect(r.failuresListed).toBe(500);
    expect(r.failuresOmitted).toBe(4500);
    expect(r.body).toContain('… and 4500 more failures not listed here: every one is in the logs (query below).');
    expect(Buffer.byteLength(JSON.stringify(r.body))).toBeLessThanOrEqual(MAX_BODY_BYTES);

    const small = renderReport(big, { failures, failuresNotKept: 4500, deferredByReason: {} }, { ...ctx, maxBodyBytes: 20_000 });
    expect(Buffer.byteLength(JSON.stringify(small.body))).toBeLessThanOrEqual(20_000);
    expect(small.failuresListed).toBeGreaterThan(10);
    expect(small.failuresListed).toBeLessThan(100);
    expect(small.body).toContain(`… and ${5000 - small.failuresListed} more failures not listed here`);
    // The query survives the cap: it comes after the failures.
    expect(small.body).toContain('| filter function_request_id = ');
  });

  it('the whole SNS message (plain text, Chatbot rendition, JSON around them) stays under 256 KiB', () => {
    const failures = Array.from({ length: 500 }, (_, i) => failure(String(i), { message: '\u0001'.repeat(MAX_MESSAGE_CHARS), target: 'é'.repeat(100) }));
    const big = summaryOf([target('é'.repeat(100), { failed: 500 })]);
    const r = renderReport(big, { failures, failuresNotKept: 0, deferredByReason: {} }, ctx);
    const https = JSON.stringify(chatbotNotification(big, { failures, failuresNotKept: 0, deferredByReason: {} }, r, ctx));
    expect(Buffer.byteLength(messageDocument({ text: r.body, byProtocol: { https } }))).toBeLessThan(256 * 1024);
    expect(r.failuresOmitted).toBeGreaterThan(0);
  });

  it('no secret reaches the subject, the body or the Chatbot rendition, even cut short by a server', () => {
    const leaky = summaryOf([target('beijing4', { failed: 2, error: `stopped: token ${SECRET} refused` })]);
    const failures = [failure('1', { message: `bad signature for ${SECRET}` }), failure('2', { message: `echo ${SECRET.slice(0, 14)}` })];
    const r = renderReport(leaky, { failures, failuresNotKept: 0, deferredByReason: {} }, ctx);
    const chat = JSON.stringify(chatbotNotification(leaky, { failures, failuresNotKept: 0, deferredByReason: {} }, r, ctx));
    for (const text of [r.subject, r.body, chat]) expect(text).not.toContain(SECRET.slice(0, 12));
    expect(r.body).toContain('bad signature for [REDACTED]');
    expect(r.body).toContain('stopped: token [REDACTED] refused');
  });
});

describe('the Chatbot rendition (custom notification schema)', () => {
  it('counts every kind per target, as the subject does, and says how many failures it does not list', () => {
    const block = { listed: 9, selected: 8, deleted: 0, failed: 8, deferred: 0, protected: 0, kept: 0, skipped: 0, refused: false, truncated: false, failures: [] };
    const run = summaryOf([target('main', { deleted: 2, taskGroups: block })], { taskGroups: { listed: 9, selected: 8, deleted: 0, failed: 8, deferred: 0, protected: 0, kept: 0, skipped: 0 } });
    const failures = Array.from({ length: 8 }, (_, i) => failure(`g-${i}`, { kind: 'taskGroup', httpStatus: 500, code: 'OMS.0001' }));
    const r = renderReport(run, { failures, failuresNotKept: 0, deferredByReason: {} }, ctx);
    expect(r.subject).toBe('OMS Task Janitor prod: 2 deleted, 8 failed');
    const n = chatbotNotification(run, { failures, failuresNotKept: 0, deferredByReason: {} }, r, ctx);
    expect(n.content.description).toContain('main: 2 deleted, 8 failed, 0 deferred');
    expect(n.content.description).toContain('taskGroup g-0 (succeeded) 500 OMS.0001');
    expect(n.content.description).toContain('… and 3 more failures');
  });

  it('version 1.0, source custom, the subject as title, stage and outcome as keywords; a long description is cut with its code block closed', () => {
    const failures = Array.from({ length: 5 }, (_, i) => failure(String(i), { message: `\`\`\`${'w'.repeat(118)}` }));
    const run = summaryOf(Array.from({ length: 12 }, (_, i) => target(`${'target-'.repeat(5)}${i}`, { failed: i < 5 ? 1 : 0, deleted: 3 })));
    const r = renderReport(run, { failures, failuresNotKept: 0, deferredByReason: {} }, ctx);
    const n = chatbotNotification(run, { failures, failuresNotKept: 0, deferredByReason: {} }, r, ctx);
    expect(n).toMatchObject({ version: '1.0', source: 'custom', id: run.runId, content: { textType: 'client-markdown', title: r.subject, keywords: ['prod', 'failures'] } });
    expect(n.content.nextSteps[0]).toContain(`function_request_id = "${run.runId}"`);
    expect(n.content.description.length).toBeLessThanOrEqual(MAX_CHAT_DESCRIPTION_CHARS);
    expect(n.content.description).toContain('… and 2 more targets');
    // Server text cannot open or close a code block: only ours, in pairs.
    expect(n.content.description.split('```').length % 2).toBe(1);
  });
});
