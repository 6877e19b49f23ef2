/**
 * Property: in no generated world does the janitor send a pause to an item whose state OMS would refuse it in, or a
 * delete to an item whose state refuses a delete (the emulator counts both on arrival: `pause-not-pausable`,
 * `delete-in-progress`). Worlds hold tasks, task groups and sync tasks in every state (and some unknown ones),
 * policies have stopFirst rules on random states, pauses and deletes meet one-off OMS.0066 and OMS.0063 answers, and
 * an item may change state whenever the janitor looks at it (the change happens before the look's answer, as a
 * real item changes between two calls). Time is simulated: the engine's clock, its sleeps and the emulator's pause
 * lifecycle share one clock, so stopTimeout passes in no real time.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { startEmulator, type Emulator, type EmuSyncTask, type EmuTask, type EmuTaskGroup } from '../../emulator/index.js';
import { DELETE_IN_PROGRESS, PAUSE_NOT_PAUSABLE } from '../../emulator/stats.js';
import { tokenAuthenticator } from '../../lib/auth/types.js';
import { jsonLinesLog } from '../../lib/log/json-lines.js';
import { Redactor } from '../../lib/log/redact.js';
import { parsePolicy } from '../../lib/policy/load.js';
import { runPurge } from '../../lib/purge/engine.js';
import type { Outcome } from '../../lib/purge/outcome.js';
import { createRunClient } from '../../lib/purge/runtime.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { DAY, FAST_RETRY, HOUR, PROJECT, TOKEN } from '../helpers/harness.js';

type KindName = 'task' | 'taskGroup' | 'syncTask';

// The states as the API lists them, written out here (not imported: the test must not share the product's table).
const STATUSES: Record<KindName, { names: string[]; raw: Record<string, number | string>; busy: string[]; unknown: Array<number | string> }> = {
  task: {
    names: ['waiting', 'migrating', 'paused', 'failed', 'succeeded', 'retrying', 'pausing'],
    raw: { waiting: 1, migrating: 2, paused: 3, failed: 4, succeeded: 5, retrying: 6, pausing: 7 },
    busy: ['waiting', 'migrating', 'retrying', 'pausing'],
    unknown: [0, 42],
  },
  taskGroup: {
    names: ['waiting', 'executing', 'monitoring', 'paused', 'creationFailed', 'failed', 'succeeded', 'pausing'],
    raw: { waiting: 0, executing: 1, monitoring: 2, paused: 3, creationFailed: 4, failed: 5, succeeded: 6, pausing: 7 },
    busy: ['waiting', 'executing', 'monitoring', 'pausing'],
    unknown: [8, 9, 42],
  },
  syncTask: {
    names: ['synchronizing', 'stopped'],
    raw: { synchronizing: 'SYNCHRONIZING', stopped: 'STOPPED' },
    busy: ['synchronizing'],
    unknown: ['PAUSED'],
  },
};
const KIND_NAMES: KindName[] = ['task', 'taskGroup', 'syncTask'];
const COLLECTION: Record<KindName, string> = { task: 'tasks', taskGroup: 'taskgroups', syncTask: 'sync-tasks' };
const PAUSE_METHOD: Record<KindName, 'POST' | 'PUT'> = { task: 'POST', taskGroup: 'PUT', syncTask: 'POST' };

interface GenItem {
  kind: KindName;
  /** Index into the kind's names, or past them into `unknown`. */
  state: number;
  ageMs: number;
  fault: 'none' | 'pause-0066' | 'delete-0063';
}

const allStates = (kind: KindName) => [...STATUSES[kind].names.map((n) => STATUSES[kind].raw[n]!), ...STATUSES[kind].unknown];

const genItem = (kind: KindName) =>
  fc.record({
    kind: fc.constant(kind),
    state: fc.nat({ max: allStates(kind).length - 1 }),
    ageMs: fc.constantFrom(2 * HOUR, 3 * DAY, 30 * DAY),
    fault: fc.constantFrom<GenItem['fault']>('none', 'none', 'pause-0066', 'delete-0063'),
  });

const genRule = (kind: KindName) =>
  fc.record({
    statuses: fc.subarray(STATUSES[kind].names, { minLength: 1 }),
    keepLatest: fc.constantFrom(0, 0, 1),
  });

const world = fc.record({
  task: fc.array(genItem('task'), { maxLength: 6 }),
  taskGroup: fc.array(genItem('taskGroup'), { maxLength: 6 }),
  syncTask: fc.array(genItem('syncTask'), { maxLength: 4 }),
  rules: fc.record({ task: genRule('task'), taskGroup: genRule('taskGroup'), syncTask: genRule('syncTask') }),
  /** At each look, whether the item changes first, and to which state (an index into its kind's states). */
  changes: fc.array(fc.option(fc.nat({ max: 20 }), { nil: undefined, freq: 2 }), { minLength: 40, maxLength: 40 }),
});

describe('engine against the emulator: never a pause or a delete that OMS refuses in the state the item is in', () => {
  let emu: Emulator;
  let proxy: RecordingProxy;
  let clock = Date.now();
  // Each run its own ids: a one-off fault a run did not use must not answer the next run's item.
  let runNo = 0;

  beforeAll(async () => {
    emu = await startEmulator({ tokens: [TOKEN], now: () => clock, stopDelayMs: 1500 });
    proxy = await startRecordingProxy(emu.url);
  });
  afterAll(async () => {
    await proxy.close();
    await emu.close();
  });

  it('holds for generated worlds, rules, refusals and changes between looks', async () => {
    await fc.assert(
      fc.asyncProperty(world, async (w) => {
        clock = Date.now();
        const start = clock;
        runNo += 1;
        const idOf = (kind: KindName, i: number) => (kind === 'task' ? String(runNo * 1000 + 100 + i) : `${kind}-${runNo}-${i}`);
        const fixtures: Record<KindName, Array<Record<string, unknown>>> = { task: [], taskGroup: [], syncTask: [] };
        for (const kind of KIND_NAMES) {
          w[kind].forEach((item, i) => {
            const status = allStates(kind)[item.state]!;
            const id = idOf(kind, i);
            if (kind === 'task') fixtures.task.push({ id, name: `t${i}`, status: status as number, start_time: start - item.ageMs, total_time: 0 } satisfies EmuTask);
            else if (kind === 'taskGroup') fixtures.taskGroup.push({ group_id: id, status: status as number, start_time: start - item.ageMs, total_time: 0, description: `g${i}` } satisfies EmuTaskGroup);
            else fixtures.syncTask.push({ sync_task_id: id, status: status as string, create_time: start - item.ageMs - DAY, last_start_time: start - item.ageMs } satisfies EmuSyncTask);
          });
        }
        emu.setTasks(PROJECT, fixtures.task as EmuTask[]);
        emu.setTaskGroups(PROJECT, fixtures.taskGroup as EmuTaskGroup[]);
        emu.setSyncTasks(PROJECT, fixtures.syncTask as EmuSyncTask[]);
        for (const kind of KIND_NAMES) {
          w[kind].forEach((item, i) => {
            if (item.fault === 'pause-0066') emu.setTaskFault(PROJECT, idOf(kind, i), { method: PAUSE_METHOD[kind], status: 400, errorCode: 'OMS.0066', errorMsg: 'Pause failed.', times: 1 }, kind);
            if (item.fault === 'delete-0063') emu.setTaskFault(PROJECT, idOf(kind, i), { method: 'DELETE', status: 400, errorCode: 'OMS.0063', errorMsg: 'In progress.', times: 1 }, kind);
          });
        }
        emu.resetStats();

        // A look (show) may find the item changed: the change is made before the emulator answers it. Every delete
        // is recorded with the state the item is in when it arrives.
        let look = 0;
        const deletes: Array<{ kind: KindName; id: string; status: unknown }> = [];
        const pausesSent: Array<{ kind: KindName; id: string; status: unknown }> = [];
        const current = (kind: KindName, id: string): unknown => {
          if (kind === 'task') return emu.tasks(PROJECT).find((t) => t.id === id)?.status;
          if (kind === 'taskGroup') return emu.taskGroups(PROJECT).find((g) => g.group_id === id)?.status;
          return emu.syncTasks(PROJECT).find((t) => t.sync_task_id === id)?.status;
        };
        proxy.setHooks({
          intercept: (r) => {
            for (const kind of KIND_NAMES) {
              const m = new RegExp(`^/v2/${PROJECT}/${COLLECTION[kind]}/([^/]+)(/stop)?$`).exec(r.rawPath);
              if (m && r.method === 'DELETE') deletes.push({ kind, id: m[1]!, status: current(kind, m[1]!) });
              if (m?.[2] && r.method === PAUSE_METHOD[kind]) pausesSent.push({ kind, id: m[1]!, status: current(kind, m[1]!) });
            }
            if (r.method !== 'GET') return undefined;
            for (const kind of KIND_NAMES) {
              const m = new RegExp(`^/v2/${PROJECT}/${COLLECTION[kind]}/([^/]+)$`).exec(r.rawPath);
              const change = m ? w.changes[look++ % w.changes.length] : undefined;
              if (!m || change === undefined) continue;
              const states = allStates(kind);
              const to = states[change % states.length]!;
              if (kind === 'task') emu.setTasks(PROJECT, emu.tasks(PROJECT).map((t) => (t.id === m[1] ? { ...t, status: to as number } : t)));
              else if (kind === 'taskGroup') emu.setTaskGroups(PROJECT, emu.taskGroups(PROJECT).map((g) => (g.group_id === m[1] ? { ...g, status: to as number } : g)));
              else emu.setSyncTasks(PROJECT, emu.syncTasks(PROJECT).map((s) => (s.sync_task_id === m[1] ? { ...s, status: to as string } : s)));
            }
            return undefined;
          },
        });

        const rules = KIND_NAMES.map((kind) => {
          const rule = w.rules[kind];
          const stopFirst = rule.statuses.some((s) => STATUSES[kind].busy.includes(s));
          return `  - { name: r-${kind}, kind: ${kind}, statuses: [${rule.statuses.join(', ')}], olderThan: 1d, keepLatest: ${rule.keepLatest}, stopFirst: ${stopFirst} }`;
        });
        const policy = parsePolicy(
          `version: 1\ntargets:\n  - { name: main, projectId: ${PROJECT}, region: cn-north-4, endpoint: "${proxy.url}" }\nrules:\n${rules.join('\n')}\nlimits: { stopTimeout: 3m }\n`,
          'generated',
        );
        const { oms } = createRunClient(policy, tokenAuthenticator(TOKEN), { retry: FAST_RETRY });
        const outcomes: Array<{ kind: KindName; id: string; outcome: Outcome }> = [];
        const summary = await runPurge(
          { policy, dryRun: false },
          {
            oms,
            log: jsonLinesLog(() => undefined, { redactor: new Redactor(), level: 'ERROR' }),
            clock: () => clock,
            sleep: async (ms) => {
              clock += ms;
              await new Promise((resolve) => setImmediate(resolve));
            },
            onOutcome: (_target, candidate, outcome) => outcomes.push({ kind: candidate.item.kind, id: candidate.item.id, outcome }),
          },
        );

        expect(emu.stats.calls[PAUSE_NOT_PAUSABLE] ?? 0).toBe(0);
        expect(emu.stats.calls[DELETE_IN_PROGRESS] ?? 0).toBe(0);
        // Whatever was deleted is what the engine says it deleted; a failure is only ever a pause of ours that did
        // not take in time (an item changed back under it), never a refusal by itself.
        const deleted = (kind: KindName) => outcomes.filter((o) => o.kind === kind && o.outcome.kind === 'deleted' && !o.outcome.alreadyGone).map((o) => o.id).sort();
        expect([...(emu.stats.deleted[PROJECT] ?? [])].sort()).toEqual(deleted('task'));
        expect([...(emu.stats.groupsDeleted[PROJECT] ?? [])].sort()).toEqual(deleted('taskGroup'));
        expect([...(emu.stats.syncTasksDeleted[PROJECT] ?? [])].sort()).toEqual(deleted('syncTask'));
        for (const o of outcomes) if (o.outcome.kind === 'failed') expect([o.kind, o.id, o.outcome.failure.reason]).toEqual([o.kind, o.id, 'stop-timeout']);
        const t = summary.totals;
        expect(t.deleted + t.failed + t.deferred).toBe(t.selected);
        // Only what the policy selects is interrupted or goes: an item listed in a state its rule names, old enough;
        // paused only in a state its rule names; deleted in a state its rule names, or paused on the way (by this
        // run, or by someone else from a state that pauses).
        const names = (kind: KindName) => STATUSES[kind].raw;
        const nameOf = (kind: KindName, raw: unknown) => Object.keys(names(kind)).find((name) => names(kind)[name] === raw);
        const listedOf = (kind: KindName, id: string) => {
          const item = w[kind].find((_, n) => idOf(kind, n) === id)!;
          const listed = nameOf(kind, allStates(kind)[item.state]);
          expect([kind, id, listed, item.ageMs > DAY && listed !== undefined && w.rules[kind].statuses.includes(listed)]).toEqual([kind, id, listed, true]);
          return listed!;
        };
        const pausedByRun = new Set<string>();
        for (const p of pausesSent) {
          listedOf(p.kind, p.id);
          const now = nameOf(p.kind, p.status);
          expect([p.kind, p.id, now, now !== undefined && w.rules[p.kind].statuses.includes(now)]).toEqual([p.kind, p.id, now, true]);
          pausedByRun.add(`${p.kind}/${p.id}`);
        }
        for (const d of deletes) {
          const listed = listedOf(d.kind, d.id);
          const now = nameOf(d.kind, d.status);
          const paused = d.kind === 'syncTask' ? 'stopped' : 'paused';
          const pauses = d.kind === 'task' ? ['migrating', 'pausing'] : d.kind === 'taskGroup' ? ['monitoring', 'pausing'] : ['synchronizing'];
          const allowed = now !== undefined && (w.rules[d.kind].statuses.includes(now) || (now === paused && (pausedByRun.has(`${d.kind}/${d.id}`) || pauses.includes(listed))));
          expect([d.kind, d.id, listed, now, allowed]).toEqual([d.kind, d.id, listed, now, true]);
        }
      }),
      { numRuns: 150 },
    );
  });
});
