/**
 * The steps of a fanned-out run (AWS Step Functions; docs/operations.md section 8b), whatever invokes them: list the
 * run's targets and take the stage's lock, plan one target (its share of the run cap), run one round of one target,
 * merge the targets into one summary and one report. What they need from the entry point (the policy, the archive
 * root, one run of an event, the report) comes in a FanOutContext; the lock and the accounts are lib/run's own.
 */
import type { ArchiveStore } from '../archive/store.js';
import type { EventLog } from '../log/types.js';
import type { Candidate, Policy } from '../policy/types.js';
import type { FanOutStep, LambdaRun } from '../purge/event.js';
import { compactForFanOut, hasWorkLeft, mergeSummaries } from '../purge/merge.js';
import { actedOn, type Outcome } from '../purge/outcome.js';
import { InputError } from '../purge/request.js';
import type { RunSummary } from '../purge/summary.js';
import { StageBusy, releaseFanOutLock, renewFanOutLock, takeFanOutLock } from './fan-out-lock.js';
import { readLedger, reserveRound, settleRound, sharesOfCap, writePlan, type TargetPlan } from './fan-out-plan.js';

/** A scheduled or manual run's event, as a fan-out step carries it. */
type RunEvent = LambdaRun & { kind: 'scheduled' | 'manual' };

/** What the steps need from the entry point that runs them (functions/purge.ts). */
export interface FanOutContext {
  policy: Pick<Policy, 'targets' | 'limits'>;
  log: EventLog;
  /** Invocations per target at most (MAX_ROUNDS) and targets at once (FAN_OUT_CONCURRENCY). */
  maxRounds: number;
  concurrency: number;
  /** The stage's notice window: a run with one is not fanned out. */
  noticeWindowMs: number;
  /** The stage's archive root (the lock, the plans, the ledgers); throws naming why there is none. */
  store: () => ArchiveStore;
  /** The same, or undefined where it cannot be had (the merge reports anyway). */
  storeIfAny: () => ArchiveStore | undefined;
  /** One run of `run` in this invocation (its summary redacted), not reported: a plan's dry run or a target's round. */
  runEvent: (run: RunEvent, options: { maxDeletesPerRun?: number; onOutcome?: (candidate: Candidate, outcome: Outcome) => void; metrics?: boolean }) => Promise<RunSummary>;
  /** Sends the run's one report (never throws). */
  report: (summary: RunSummary, trigger: string) => Promise<unknown>;
}

/**
 * A fan-out's first step: the run's targets (the event's `targets`, else every target of the policy), or, when another
 * execution of the stage holds the fan-out lock, none and who holds it (the state machine then ends at once).
 */
export interface TargetsStepResult {
  targets: string[];
  busy: string | null;
  /** Targets at once (FAN_OUT_CONCURRENCY): the state machine's Map reads it. */
  concurrency: number;
}

/** A target's plan: how many items it would act on (at most the run cap), kept in the archive root. */
export interface PlanStepResult {
  target: string;
  planned: number;
}

/**
 * One target's invocation: whether it stopped at its deadline with work left and rounds remain (invoked again), the
 * next round's number, and the run's event (the state machine passes it on). Its summary is in its ledger.
 */
export interface TargetStepResult {
  target: string;
  event: unknown;
  executionId: string;
  round: number;
  more: boolean;
}

export async function fanOutTargets(ctx: FanOutContext, run: RunEvent, executionId: string): Promise<TargetsStepResult> {
  const { policy, log } = ctx;
  const store = ctx.store(); // one execution at a time: the lock lives in the archive root
  const asked = run.choices.targets;
  asked?.forEach((name, i) => {
    if (!policy.targets.some((t) => t.name === name)) throw new InputError(`event.targets[${i}]`, `unknown target ${JSON.stringify(name)}; nothing was done`);
  });
  if (ctx.noticeWindowMs > 0) throw new InputError('NOTICE_WINDOW', 'a notice window is not fanned out yet (one run consumes the notice); switch fanOut off for this stage; nothing was done');
  const targets = runTargets(policy, run);
  // The lease: every wave of fanOutConcurrency targets planned and run for its rounds of 15 minutes, with one to spare.
  const waves = Math.max(1, Math.ceil(targets.length / ctx.concurrency));
  const leaseMs = (waves * (ctx.maxRounds + 1) + 1) * 15 * 60_000;
  const lock = await takeFanOutLock(store, executionId, Date.now(), leaseMs);
  if ('heldBy' in lock) {
    log.warn('fan-out already running', { executionId, heldBy: lock.heldBy, until: lock.until, effect: 'this execution ends without touching anything' });
    return { targets: [], busy: lock.heldBy, concurrency: ctx.concurrency };
  }
  return { targets, busy: null, concurrency: ctx.concurrency };
}

/** A fanned-out run's targets: the event's `targets`, else every target of the policy, in the policy's order. */
function runTargets(policy: { targets: readonly { name: string }[] }, run: RunEvent): string[] {
  const asked = run.choices.targets;
  return policy.targets.map((t) => t.name).filter((name) => !asked || asked.includes(name));
}

type Step<K extends FanOutStep['step']> = Extract<FanOutStep, { step: K }>;

/**
 * A target's plan: what it would act on, selected as a dry run selects (nothing changed, no metrics, no report),
 * kept for the execution's split of the run cap (lib/run/fan-out-plan.ts).
 */
export async function fanOutPlan(ctx: FanOutContext, step: Step<'plan'>): Promise<PlanStepResult> {
  const store = ctx.store();
  await mustHoldLock(store, step.executionId);
  const plan: TargetPlan = { target: step.target, lastActivityMs: [], ids: [] };
  const planned = { ...step.event, choices: { ...step.event.choices, targets: [step.target], dryRun: true } };
  await ctx.runEvent(planned, {
    metrics: false,
    onOutcome: (candidate, outcome) => {
      if (outcome.kind !== 'would-delete') return;
      plan.lastActivityMs.push(candidate.lastActivityMs);
      plan.ids.push(candidate.item.id);
    },
  });
  await writePlan(store, step.executionId, plan);
  ctx.log.info('fan-out planned', { target: step.target, planned: plan.ids.length });
  return { target: step.target, planned: plan.ids.length };
}

/**
 * One round of one target: its own invocation, time and rate budget; the report waits for the merge. It acts on no
 * more than what is left of its share of the run cap, reserved in its ledger before it starts.
 */
export async function fanOutRound(ctx: FanOutContext, step: Step<'target'>): Promise<TargetStepResult> {
  const { policy, log, maxRounds } = ctx;
  const store = ctx.store();
  await mustHoldLock(store, step.executionId);
  const shares = await sharesOfCap(store, step.executionId, runTargets(policy, step.event), policy.limits.maxDeletesPerRun);
  const share = shares[step.target];
  if (share === undefined) throw new InputError('event.target', `${JSON.stringify(step.target)} has no plan in this execution (its plan step failed): nothing was done`);
  const { reserved, before } = await reserveRound(store, step.executionId, step.target, share, Date.now() + STEP_LEASE_MS);
  log.info('fan-out round', { target: step.target, round: step.round, shareOfRunCap: share, usedBefore: before.used, cap: reserved });
  let acted = 0;
  const onlyThis = { ...step.event, choices: { ...step.event.choices, targets: [step.target] } };
  const combine = (sofar: RunSummary | undefined, round: RunSummary) => compactForFanOut(mergeSummaries(round.runId, [{ target: step.target, summaries: [...(sofar ? [sofar] : []), round] }]));
  let summary: RunSummary;
  try {
    summary = await ctx.runEvent(onlyThis, { maxDeletesPerRun: reserved, onOutcome: (_c, outcome) => void (actedOn(outcome) && (acted += 1)) });
  } catch (error) {
    // A round that fails keeps its reservation (what it did is not known), and has ended: the merge need not wait.
    await settleRound(store, step.executionId, step.target, { reserved, acted: reserved }, combine).catch(() => undefined);
    throw error;
  }
  await settleRound(store, step.executionId, step.target, { reserved, acted, summary }, combine);
  const workLeft = hasWorkLeft(summary);
  if (workLeft && step.round >= maxRounds) log.warn('fan-out rounds used up', { target: step.target, rounds: step.round, effect: 'the rest is left for the next run (MAX_ROUNDS)' });
  return { target: step.target, event: step.rawEvent, executionId: step.executionId, round: step.round + 1, more: workLeft && step.round < maxRounds };
}

/**
 * The run's one summary from the targets' ledgers (and the errors that ended targets), its one report, and the lock
 * given back. Returned without item lists: a state machine's output is at most 256 KB (the report and the logs have
 * them).
 */
export async function fanOutMerge(ctx: FanOutContext, step: Step<'merge'>): Promise<RunSummary> {
  const store = ctx.storeIfAny();
  const ledgers = await Promise.all(step.results.map((r) => (store ? readLedger(store, step.executionId, r.target) : undefined)));
  // A round whose step Step Functions gave up on (its invocation may still run) keeps the stage's lock until it
  // has ended at the latest; otherwise the lock is given back now.
  const inFlight = Math.max(0, ...ledgers.map((l) => Date.parse(l?.inFlightUntil ?? '') || 0));
  if (store) await releaseFanOutLock(store, step.executionId, Date.now(), inFlight);
  const merged = mergeSummaries(
    step.executionId,
    step.results.map((r, i) => ({ target: r.target, summaries: ledgers[i]?.summary ? [ledgers[i]!.summary!] : [], ...(r.error !== undefined ? { error: r.error } : {}) })),
  );
  await ctx.report(merged, `${step.event.kind} (fan-out)`);
  ctx.log.info('fan-out merged', { executionId: step.executionId, targets: merged.targets.length, totals: merged.totals });
  return compactForFanOut(merged, 0);
}

/**
 * A plan or target step runs only while its execution holds the stage's lock, and keeps it for as long as the step
 * can run and the next one may be kept waiting by throttling: a step sent by hand, or one of an execution whose lease
 * ended, does nothing.
 */
async function mustHoldLock(store: ArchiveStore, executionId: string): Promise<void> {
  const now = Date.now();
  if (!(await renewFanOutLock(store, executionId, now, now + STEP_LEASE_MS + THROTTLED_STEP_MS))) {
    throw new StageBusy(`execution ${executionId} does not hold the stage's lock (another run holds it, or its lease ended; steps are sent by the state machine): nothing was done`);
  }
}

/** How long a step (or a direct run) may run, with a minute to spare: Lambda's 15 minutes. */
export const STEP_LEASE_MS = 16 * 60_000;
/** How long the state machine may wait out a throttled step (its Retry on Lambda.TooManyRequestsException) before it. */
const THROTTLED_STEP_MS = 18 * 60_000;
