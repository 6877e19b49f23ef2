import { afterEach, describe, expect, it } from '@jest/globals';
import type { Emulator } from '../../emulator/index.js';
import { tokenAuthenticator } from '../../lib/auth/types.js';
import { silentLog } from '../../lib/log/types.js';
import { runPurge } from '../../lib/purge/engine.js';
import { createRunClient } from '../../lib/purge/runtime.js';
import { DAY, FAST_RETRY, PROJECT, TOKEN, deletedIds, emulator, policy, runEngine, task } from '../helpers/harness.js';

const FAILED_RULE = `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n`;

function oldFailed(count: number, firstId = 5000): ReturnType<typeof task>[] {
  return Array.from({ length: count }, (_, i) => task(String(firstId + i), 4, 40 * DAY + i * 60_000));
}

describe('engine: failures, faults and budgets', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('logs every 400 and 403 with code, message and request id, counts them failed, and does not retry them', async () => {
    emu = await emulator({ projects: { [PROJECT]: oldFailed(4) } });
    emu.setTaskFault(PROJECT, '5001', { method: 'DELETE', status: 400, errorCode: 'OMS.0054', errorMsg: 'Invalid task ID.' });
    emu.setTaskFault(PROJECT, '5002', { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'API access denied.' });
    const { summary, logs } = await runEngine(policy(emu, FAILED_RULE));

    expect(deletedIds(emu)).toEqual(['5000', '5003']);
    expect(emu.stats.calls.delete).toBe(4); // one attempt each: 400 and 403 are final
    expect(summary.targets[0]).toMatchObject({ selected: 4, deleted: 2, failed: 2 });
    const failures = summary.targets[0]!.failures;
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ taskId: '5001', httpStatus: 400, errorCode: 'OMS.0054', errorMsg: 'Invalid task ID.' }),
        expect.objectContaining({ taskId: '5002', httpStatus: 403, errorCode: 'APIGW.0306', errorMsg: 'API access denied.' }),
      ]),
    );
    const line400 = logs.lines.find((l) => l.taskId === '5001' && l.outcome === 'failed')!;
    const line403 = logs.lines.find((l) => l.taskId === '5002' && l.outcome === 'failed')!;
    expect(line400).toMatchObject({ level: 'WARN', target: 'main', httpStatus: 400, errorCode: 'OMS.0054', errorMsg: 'Invalid task ID.' });
    expect(line403).toMatchObject({ level: 'ERROR', target: 'main', httpStatus: 403, errorCode: 'APIGW.0306', errorMsg: 'API access denied.' });
    expect(typeof line400.requestId).toBe('string');
    expect(typeof line403.requestId).toBe('string');
  });

  it('five 403 answers in a row stop the target; the rest is not attempted', async () => {
    emu = await emulator({ projects: { [PROJECT]: oldFailed(12) } });
    for (let i = 0; i < 12; i += 1) {
      emu.setTaskFault(PROJECT, String(5000 + i), { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'denied' });
    }
    const p = { ...policy(emu, FAILED_RULE), concurrency: 1 };
    const { summary } = await runEngine(p);
    expect(emu.stats.calls.delete).toBe(5);
    expect(summary.targets[0]).toMatchObject({ failed: 5, deferred: 7, deleted: 0, truncated: true });
    expect(summary.targets[0]!.error).toMatch(/5 consecutive 403/);
  });

  it('under 15% 503, 5% 429 and 2% resets every selected task is deleted, never over `concurrency` in flight', async () => {
    emu = await emulator({
      projects: { [PROJECT]: oldFailed(300) },
      faults: { rate503: 0.15, rate429: 0.05, rateReset: 0.02, latencyMs: 3, retryAfter: 'mixed', retryAfterSeconds: 1 },
      seed: 7,
    });
    const { summary, counters } = await runEngine({ ...policy(emu, FAILED_RULE), concurrency: 6 });
    expect(summary.targets[0]).toMatchObject({ selected: 300, deleted: 300, failed: 0 });
    expect(emu.tasks(PROJECT)).toHaveLength(0);
    expect(emu.stats.maxInFlight).toBeLessThanOrEqual(6);
    expect(emu.stats.maxInFlight).toBeGreaterThan(1);
    expect(emu.stats.faultsInjected['503']).toBeGreaterThan(20);
    expect(emu.stats.faultsInjected['429']).toBeGreaterThan(3);
    expect(emu.stats.faultsInjected.reset).toBeGreaterThan(0);
    expect(counters.throttled).toBe(emu.stats.faultsInjected['429']);
  });

  it('a deletion that fails on every attempt is reported with the last answer', async () => {
    emu = await emulator({ projects: { [PROJECT]: oldFailed(1) } });
    emu.setTaskFault(PROJECT, '5000', { method: 'DELETE', status: 502, errorCode: 'APIGW.0201', errorMsg: 'bad gateway' });
    const { summary } = await runEngine(policy(emu, FAILED_RULE));
    expect(emu.stats.calls.delete).toBe(10); // FAST_RETRY.attempts
    expect(summary.targets[0]!.failures[0]).toMatchObject({ taskId: '5000', httpStatus: 502, errorCode: 'APIGW.0201' });
  });

  it('with less than 30 s of Lambda time left no new task starts; the rest is deferred', async () => {
    emu = await emulator({ projects: { [PROJECT]: oldFailed(10) } });
    let calls = 0;
    const remainingTimeMs = () => (++calls <= 3 ? 120_000 : 29_000);
    const { summary, logs } = await runEngine({ ...policy(emu, FAILED_RULE), concurrency: 1 }, {}, { remainingTimeMs });
    expect(deletedIds(emu)).toHaveLength(3);
    expect(summary.targets[0]).toMatchObject({ deleted: 3, deferred: 7, failed: 0, truncated: true });
    expect(logs.lines.filter((l) => l.reason === 'time-budget')).toHaveLength(7);
    // the oldest went first
    expect(deletedIds(emu)).toEqual(['5007', '5008', '5009']);
  });

  it('a 401 stops the target with a clear error and no retries', async () => {
    emu = await emulator({ projects: { [PROJECT]: oldFailed(3) }, tokens: ['another-token'] });
    const { summary, logs } = await runEngine(policy(emu, FAILED_RULE));
    expect(emu.stats.calls.list).toBe(1);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(summary.targets[0]!.error).toMatch(/401/);
    expect(logs.lines.find((l) => l.message === 'listing failed')).toMatchObject({ level: 'ERROR', target: 'main', httpStatus: 401, errorCode: 'APIGW.0301' });
  });

  it('a listing that answers HTML pages is retried, and when it never recovers nothing in the target is touched', async () => {
    emu = await emulator({ projects: { [PROJECT]: oldFailed(5) }, faults: { rateHtml: 1, routes: ['list'] } });
    const { summary } = await runEngine(policy(emu, FAILED_RULE));
    expect(emu.stats.calls.list).toBe(10);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(summary.targets[0]!.error).toMatch(/HTML page/);

    emu.setFaults({ rateHtml: 0.3, routes: ['list'] });
    const again = await runEngine(policy(emu, FAILED_RULE));
    expect(again.summary.targets[0]).toMatchObject({ deleted: 5 });
  });

  it('a 2xx listing page that is not the expected JSON is asked for again; the run then completes exactly', async () => {
    // 250 tasks = 3 pages; a third of list answers are 200 with a body that is cut off, not an object, has `tasks`
    // that is not an array or `count` that is a string (emulator BAD_JSON_BODIES).
    emu = await emulator({ projects: { [PROJECT]: oldFailed(250) }, faults: { rateBadJson: 0.34, routes: ['list'] }, seed: 3 });
    const { summary, logs } = await runEngine(policy(emu, FAILED_RULE));
    expect(emu.stats.faultsInjected['bad-json']).toBeGreaterThan(0);
    expect(emu.stats.calls.list).toBe(3 + emu.stats.faultsInjected['bad-json']!);
    expect(summary.targets[0]).toMatchObject({ listed: 250, selected: 250, deleted: 250, failed: 0 });
    expect(summary.targets[0]!.error).toBeUndefined();
    expect(logs.lines.some((l) => l.message === 'listing failed')).toBe(false);
  });

  it.each([
    ['cut off', '{"tasks": [{"id": 1, "name": "cut'],
    ['tasks not an array', '{"tasks": {"id": 1}, "count": 1}'],
    ['count not a number', '{"tasks": [], "count": "12"}'],
    ['not an object', '[]'],
  ])('a listing whose every answer is %s fails after the attempt limit, with the reason in the log line, and deletes nothing', async (_what, body) => {
    emu = await emulator({ projects: { [PROJECT]: oldFailed(5) }, faults: { rateBadJson: 1, badJsonBody: body, routes: ['list'] } });
    const { summary, logs } = await runEngine(policy(emu, FAILED_RULE));
    expect(emu.stats.calls.list).toBe(FAST_RETRY.attempts);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    const line = logs.lines.find((l) => l.message === 'listing failed');
    const reason = { 'cut off': /not JSON/, 'tasks not an array': /no "tasks" array/, 'count not a number': /"count" is not a number/, 'not an object': /not a JSON object/ }[_what]!;
    expect(line).toMatchObject({ level: 'ERROR', reason: 'invalid-response', httpStatus: 0 });
    expect(String(line!.errorMsg)).toMatch(reason);
    expect(summary.targets[0]!.error).toMatch(reason);
  });

  it('a refused offset (the 10000 cap of some regions) gives a partial, truncated listing that is still used', async () => {
    emu = await emulator({ projects: { [PROJECT]: oldFailed(250) }, offsetCap: 150 });
    const { summary } = await runEngine({ ...policy(emu, FAILED_RULE), limits: { maxDeletesPerRun: 1000, maxDeletePercent: 100, percentFloor: 20, stopTimeoutMs: 60_000 } });
    expect(summary.targets[0]).toMatchObject({ listed: 200, truncated: true, deleted: 200 });
  });
});

describe('engine: the run deadline inside Lambda', () => {
  it('ends requests stuck in flight or in retries, so the summary is still returned', async () => {
    const emu = await emulator({ projects: { [PROJECT]: oldFailed(3) }, faults: { rateStall: 1, stallMs: 60_000, routes: ['delete'] } });
    try {
      const p = policy(emu, FAILED_RULE);
      const { oms } = createRunClient(p, tokenAuthenticator(TOKEN), { retry: { ...FAST_RETRY, attemptTimeoutMs: 30_000 }, deadline: AbortSignal.timeout(400) });
      const started = Date.now();
      const summary = await runPurge({ policy: p, dryRun: false }, { oms, log: silentLog });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(summary.targets[0]).toMatchObject({ selected: 3, deleted: 0, failed: 3 });
      expect(summary.targets[0]!.failures.map((f) => f.reason)).toEqual(['timeout', 'timeout', 'timeout']);
    } finally {
      await emu.close();
    }
  });
});
