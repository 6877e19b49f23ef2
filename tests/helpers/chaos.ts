/**
 * The chaos suite, shared by tests/integration/chaos.test.ts (small sizes, in `npm test`) and bench/soak.ts (`npm run
 * soak`: bigger sizes, many seeds): a run of one scenario of chaos-scenarios.ts is the real engine, HTTP wrapper and
 * OMS client against the emulator with that fault mix, checked against the invariants of chaos-invariants.ts.
 */
import { DELETE_IN_PROGRESS } from '../../emulator/stats.js';
import { tokenAuthenticator } from '../../lib/auth/types.js';
import { targetFixture, chaosRules, type TargetFixture } from './chaos-fixture.js';
import { checkInvariants, type ChaosObservation, type InvariantReport } from './chaos-invariants.js';
import { CHAOS_RETRY, STALL_MS, type ChaosScenario } from './chaos-scenarios.js';
import { PROJECT, PROJECT_B, TOKEN, emulator, policy, runEngine } from './harness.js';

export interface ChaosResult extends InvariantReport {
  scenario: string;
  seed: number;
  concurrency: number;
  listed: number;
  selected: number;
  deleted: number;
  failed: number;
  deferred: number;
  deletionRate: number;
  faults: Record<string, number>;
  /** Failed tasks by `reason` (and HTTP status when there was one), from their outcome lines. */
  failureReasons: Record<string, number>;
  /** Tasks the emulator saw paused by the janitor (stopFirst). */
  stopped: number;
  deletesToInProgress: number;
  maxInFlight: number;
  wallMs: number;
}

/**
 * One run of `scenario` with `tasksPerTarget` tasks (times its sizeFactor) in each target, under `seed` (default:
 * the scenario's): the fixture and the emulator's fault draws follow from it. Which request meets which draw still
 * depends on arrival order under concurrency, so the figures vary a little from run to run; the invariants may not.
 */
export async function runChaos(scenario: ChaosScenario, tasksPerTarget: number, seed = scenario.seed): Promise<ChaosResult> {
  const started = performance.now();
  const nowMs = Date.now();
  const projects: Record<string, string> = scenario.targets === 2 ? { main: PROJECT, second: PROJECT_B } : { main: PROJECT };
  const size = tasksPerTarget * (scenario.sizeFactor ?? 1);
  const fixtures: TargetFixture[] = Object.entries(projects).map(([name, projectId], t) => targetFixture(seed, size, t, name, projectId, nowMs));
  const selected = fixtures.reduce((sum, f) => sum + f.tasks.filter((t) => t.selected).length, 0);
  const faults = { stallMs: STALL_MS, ...scenario.faults };
  const emu = await emulator({
    projects: Object.fromEntries(fixtures.map((f) => [f.projectId, f.tasks.map((t) => t.input)])),
    faults,
    seed,
    stopDelayMs: scenario.stopDelayMs ?? 100,
    pauseSettleMs: scenario.pauseSettleMs ?? 0,
  });
  try {
    const cap = scenario.runCapShare === undefined ? 100_000 : Math.max(1, Math.floor(selected * scenario.runCapShare));
    const yaml = `${chaosRules(fixtures.flatMap((f) => f.protectIds))}limits: { maxDeletesPerRun: ${cap}, stopTimeout: 1m }\nconcurrency: ${scenario.concurrency}\n`;
    const budgetEndMs = performance.now() + (scenario.timeBudgetMs ?? 0);
    const lambda = scenario.timeBudgetMs === undefined ? {} : { remainingTimeMs: () => budgetEndMs - performance.now(), reserveMs: 0 };
    const { summary, logs } = await runEngine(policy(emu, yaml, projects), {}, lambda, tokenAuthenticator(TOKEN), { ...CHAOS_RETRY, ...scenario.retry });
    const stats = emu.stats;
    const seen: ChaosObservation = {
      summary,
      reported: logs.lines.flatMap((l) =>
        (l.outcome === 'failed' || l.outcome === 'deferred') && typeof l.taskId === 'string' && typeof l.target === 'string'
          ? [{ taskId: l.taskId, target: l.target, outcome: l.outcome }]
          : [],
      ),
      deleted: structuredClone(stats.deleted),
      stopped: structuredClone(stats.stopped),
      remaining: Object.fromEntries(fixtures.map((f) => [f.projectId, emu.tasks(f.projectId).length])),
      deletesToInProgress: stats.calls[DELETE_IN_PROGRESS] ?? 0,
      maxInFlight: stats.maxInFlight,
    };
    const report = checkInvariants(fixtures, seen, { concurrency: scenario.concurrency, ...(scenario.runCapShare === undefined ? {} : { maxDeletesPerRun: cap }) });
    const failureReasons: Record<string, number> = {};
    for (const l of logs.lines) {
      if (l.outcome !== 'failed') continue;
      const key = `${String(l.reason)}${l.httpStatus ? `:${String(l.httpStatus)}` : ''}`;
      failureReasons[key] = (failureReasons[key] ?? 0) + 1;
    }
    const deleted = Object.values(seen.deleted).reduce((sum, ids) => sum + ids.length, 0);
    return {
      ...report,
      scenario: scenario.name,
      seed,
      concurrency: scenario.concurrency,
      listed: fixtures.reduce((sum, f) => sum + f.tasks.length, 0),
      selected,
      deleted,
      failed: summary.totals.failed,
      deferred: summary.totals.deferred,
      deletionRate: selected === 0 ? 1 : deleted / selected,
      faults: { ...stats.faultsInjected },
      failureReasons,
      stopped: Object.values(seen.stopped).reduce((sum, ids) => sum + ids.length, 0),
      deletesToInProgress: seen.deletesToInProgress,
      maxInFlight: seen.maxInFlight,
      wallMs: performance.now() - started,
    };
  } finally {
    await emu.close();
  }
}

/** Faults by kind, the way a result line shows them (`503:12 429:3 reset:2`); latency is per request, left out. */
export function faultText(faults: Record<string, number>): string {
  const kinds = Object.entries(faults).filter(([kind]) => kind !== 'latency');
  return kinds.length === 0 ? 'none' : kinds.map(([kind, count]) => `${kind}:${count}`).join(' ');
}

/** One line per run: what was injected, what became of the selection, and the invariants' figures. */
export function resultLine(r: ChaosResult): string {
  const injected = Object.entries(r.faults).reduce((sum, [kind, count]) => sum + (kind === 'latency' ? 0 : count), 0);
  return [
    `seed=${r.seed}`,
    `faults=${injected} [${faultText(r.faults)}]`,
    `listed=${r.listed} selected=${r.selected} paused=${r.stopped} deleted=${r.deleted} failed=${r.failed}${r.failed ? ` [${faultText(r.failureReasons)}]` : ''} deferred=${r.deferred}`,
    `rate=${r.deletionRate.toFixed(3)}`,
    `wrongDeletes=${r.wrongDeletions.length} wrongPauses=${r.wrongPauses.length} inProgressDeletes=${r.deletesToInProgress}`,
    `maxInFlight=${r.maxInFlight}/${r.concurrency}`,
    ...(r.listingFailed.length ? [`listingFailed=${r.listingFailed.join(',')}`] : []),
    `${Math.round(r.wallMs)}ms`,
    `${r.scenario}`,
  ].join(' ');
}
