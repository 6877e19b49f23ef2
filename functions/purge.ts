import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { regionsByProject } from '../lib/auth/iam.js';
import { checkStagePrefix, resolveSecretCredentials } from '../lib/auth/resolve.js';
import { createSecretSource, parseSecretCacheSeconds } from '../lib/auth/secret-source.js';
import { HostAllowList } from '../lib/http/allowed-hosts.js';
import { createHttp } from '../lib/http/client.js';
import { failureCounter, publishArchiveFailure, publishRunMetrics } from '../lib/purge/metrics.js';
import { ArchiveError, archiveRootFor, openArchiveStore, type ArchiveStore } from '../lib/archive/store.js';
import { StdoutLogger, powertoolsLog } from '../lib/log/powertools.js';
import { Redactor } from '../lib/log/redact.js';
import { loadPolicyFile } from '../lib/policy/load.js';
import { DEFAULT_MANIFEST_MAX_AGE_MS, checkManifest, parseManifest } from '../lib/purge/manifest.js';
import { shellWord } from '../lib/log/terminal.js';
import { prepareRun } from '../lib/run/prepare-run.js';
import { parseDuration } from '../lib/policy/duration.js';
import { parseLambdaEvent, type FanOutStep, type LambdaRun } from '../lib/purge/event.js';
import { actedOn, type Outcome } from '../lib/purge/outcome.js';
import { compactForFanOut, hasWorkLeft, mergeSummaries } from '../lib/purge/merge.js';
import { StageBusy, releaseFanOutLock, renewFanOutLock, takeFanOutLock, withStageLock } from '../lib/run/fan-out-lock.js';
import { readLedger, reserveRound, settleRound, sharesOfCap, writePlan, type TargetPlan } from '../lib/run/fan-out-plan.js';
import type { Candidate } from '../lib/policy/types.js';
import { InputError } from '../lib/purge/request.js';
import type { RunSummary } from '../lib/purge/summary.js';
import { createRunReporter } from '../lib/report/reporter.js';

// Built once per cold start and reused by warm invocations: the policy (validated now, so a bad policy fails the
// first invocation loudly), the secret cache, the IAM token cache (module scope in lib/auth/iam.ts), the loggers.
const stage = process.env.STAGE ?? 'dev';
const policyFile = process.env.POLICY_FILE ?? `policies/${stage}.yaml`;
// OMS_JANITOR_ALLOWED_HOSTS (a stage param, outside the policy) widens where credentials may go; a malformed value,
// like a policy endpoint or an iamEndpoint outside the list, fails the invocation before any request.
const setup = (async () => {
  const allowedHosts = HostAllowList.fromEnv(process.env);
  const { policy, sha256 } = await loadPolicyFile(policyFile, { allowedHosts });
  checkStagePrefix(policy.targets, process.env.OMS_CREDENTIALS_SECRET_ID);
  return { allowedHosts, policy, policySha256: sha256, iamHttp: createHttp({ allowedHosts }) };
})();
setup.catch(() => undefined); // reported by the first invocation, not as an unhandled rejection
const secrets = createSecretSource({ cacheSeconds: parseSecretCacheSeconds(process.env.SECRET_CACHE_SECONDS) });
const redactor = new Redactor();
const logger = new StdoutLogger({ serviceName: 'oms-task-janitor', persistentKeys: { stage } });
const metrics = new Metrics({ namespace: 'OmsTaskJanitor', serviceName: 'oms-task-janitor', defaultDimensions: { stage } });
const log = powertoolsLog(logger, redactor);
// The run report (stage param `report`, lib/report): REPORT_MODE and REPORT_TOPIC are checked now, and a bad value
// fails the cold start naming the variable, as a bad SECRET_CACHE_SECONDS does. The SNS client waits for a report.
const reporter = createRunReporter({ env: process.env, stage, log, redactor });
// Where every real run archives what it deletes (stage param `archive`: the stage's bucket), checked now: a malformed
// ARCHIVE_ROOT fails the cold start naming it. Unset: no archive (docs/behaviour.md "Archive").
// The notice window (stage param `notice`, a duration; 0 = off). It needs the archive, where the pending notice lives.
const noticeWindowMs = (() => {
  const text = process.env.NOTICE_WINDOW ?? '0';
  if (text === '0' || text === '') return 0;
  const window = parseDuration(text);
  if (!window.ok) throw new InputError('NOTICE_WINDOW', window.message);
  if (!process.env.ARCHIVE_ROOT) throw new InputError('NOTICE_WINDOW', 'a notice window needs the archive (stage param archive: true): the pending notice is kept there');
  return window.ms;
})();
// Fan-out (stage params maxRounds, fanOutConcurrency): invocations per target at most, and targets at once. Strings
// in the environment whatever form --param gave them; a value that is not a whole number from 1 fails the cold start.
const maxRounds = wholeNumberFromEnv('MAX_ROUNDS', 20);
const fanOutConcurrency = wholeNumberFromEnv('FAN_OUT_CONCURRENCY', 10);
// serverless.yml gives s3://<the stage's bucket>/ with {account} and {region}, completed per invocation from the
// function's ARN; the form is checked here with stand-ins.
const archiveRoot = (() => {
  const root = process.env.ARCHIVE_ROOT;
  if (!root) return undefined;
  try {
    openArchiveStore(root.replace(/\{account\}/g, '000000000000').replace(/\{region\}/g, 'us-east-1'));
  } catch (error) {
    throw new InputError('ARCHIVE_ROOT', (error as Error).message);
  }
  return root;
})();

/**
 * Scheduled events run the policy as written; any other event is a manual run, a dry run unless "dryRun": false.
 * Returns the run summary. Throws only for invalid input or configuration (nothing is done then); failed deletions
 * are in the summary, the logs and the metrics.
 */
export async function handler(event: unknown, context: Context): Promise<RunSummary | TargetsStepResult | PlanStepResult | TargetStepResult> {
  // RunDuration counts from here, as Lambda's timeout does: set-up (secrets, IAM tokens, the progress record) included.
  const startedMs = Date.now();
  logger.addContext(context);
  // Every request of the invocation (the secret read, IAM token requests, OMS calls and their retries) ends 10 s
  // before Lambda would cut the invocation off, so the summary and the metrics, or a clean error, are always
  // returned; new tasks already stop starting 30 s before (the engine's reserve).
  const deadline = AbortSignal.timeout(Math.max(1000, context.getRemainingTimeInMillis() - 10_000));
  try {
    const parsed = parseLambdaEvent(event);
    if (parsed.kind !== 'fanOut') return redactor.value(await runEvent(parsed, context, { startedMs, deadline, direct: true })) as RunSummary;
    const { step } = parsed;
    if (step.step === 'targets') return await fanOutTargets(step.event, step.executionId ?? context.awsRequestId, context);
    if (step.step === 'plan') return await fanOutPlan(step, context, { startedMs, deadline });
    if (step.step === 'target') return await fanOutRound(step, context, { startedMs, deadline });
    return await fanOutMerge(step, context, deadline);
  } catch (error) {
    // The plan could not be archived: nothing was paused or deleted, and the alarm on ArchiveFailed says so.
    if (error instanceof ArchiveError) publishArchiveFailure(metrics);
    log.error('invocation refused', { error });
    // Re-thrown with the secrets taken out; the name (PolicyError, InputError, CredentialsError) is kept.
    const safe = new Error(redactor.text(error instanceof Error ? error.message : String(error)));
    safe.name = error instanceof Error ? error.name : 'Error';
    throw safe;
  }
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

async function fanOutTargets(run: LambdaRun & { kind: 'scheduled' | 'manual' }, executionId: string, context: Context): Promise<TargetsStepResult> {
  const { policy } = await setup;
  const store = fanOutStore(context); // one execution at a time: the lock lives in the archive root
  const asked = run.choices.targets;
  asked?.forEach((name, i) => {
    if (!policy.targets.some((t) => t.name === name)) throw new InputError(`event.targets[${i}]`, `unknown target ${JSON.stringify(name)}; nothing was done`);
  });
  if (noticeWindowMs > 0) throw new InputError('NOTICE_WINDOW', 'a notice window is not fanned out yet (one run consumes the notice); switch fanOut off for this stage; nothing was done');
  const targets = runTargets(policy, run);
  // The lease: every wave of fanOutConcurrency targets planned and run for its rounds of 15 minutes, with one to spare.
  const waves = Math.max(1, Math.ceil(targets.length / fanOutConcurrency));
  const leaseMs = (waves * (maxRounds + 1) + 1) * 15 * 60_000;
  const lock = await takeFanOutLock(store, executionId, Date.now(), leaseMs);
  if ('heldBy' in lock) {
    log.warn('fan-out already running', { executionId, heldBy: lock.heldBy, until: lock.until, effect: 'this execution ends without touching anything' });
    return { targets: [], busy: lock.heldBy, concurrency: fanOutConcurrency };
  }
  return { targets, busy: null, concurrency: fanOutConcurrency };
}

/** A fanned-out run's targets: the event's `targets`, else every target of the policy, in the policy's order. */
function runTargets(policy: { targets: readonly { name: string }[] }, run: LambdaRun & { kind: 'scheduled' | 'manual' }): string[] {
  const asked = run.choices.targets;
  return policy.targets.map((t) => t.name).filter((name) => !asked || asked.includes(name));
}

type Step<K extends FanOutStep['step']> = Extract<FanOutStep, { step: K }>;
type Clock = { startedMs: number; deadline: AbortSignal };

/**
 * A target's plan: what it would act on, selected as a dry run selects (nothing changed, no metrics, no report),
 * kept for the execution's split of the run cap (lib/run/fan-out-plan.ts).
 */
async function fanOutPlan(step: Step<'plan'>, context: Context, clock: Clock): Promise<PlanStepResult> {
  const store = fanOutStore(context);
  await mustHoldLock(store, step.executionId);
  const plan: TargetPlan = { target: step.target, lastActivityMs: [], ids: [] };
  const planned = { ...step.event, choices: { ...step.event.choices, targets: [step.target], dryRun: true } };
  await runEvent(planned, context, {
    ...clock,
    direct: false,
    metrics: false,
    onOutcome: (candidate, outcome) => {
      if (outcome.kind !== 'would-delete') return;
      plan.lastActivityMs.push(candidate.lastActivityMs);
      plan.ids.push(candidate.item.id);
    },
  });
  await writePlan(store, step.executionId, plan);
  log.info('fan-out planned', { target: step.target, planned: plan.ids.length });
  return { target: step.target, planned: plan.ids.length };
}

/**
 * One round of one target: its own invocation, time and rate budget; the report waits for the merge. It acts on no
 * more than what is left of its share of the run cap, reserved in its ledger before it starts.
 */
async function fanOutRound(step: Step<'target'>, context: Context, clock: Clock): Promise<TargetStepResult> {
  const { policy } = await setup;
  const store = fanOutStore(context);
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
    summary = redactor.value(await runEvent(onlyThis, context, { ...clock, direct: false, maxDeletesPerRun: reserved, onOutcome: (_c, outcome) => void (actedOn(outcome) && (acted += 1)) })) as RunSummary;
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
async function fanOutMerge(step: Step<'merge'>, context: Context, deadline: AbortSignal): Promise<RunSummary> {
  const store = archiveRoot ? tryRoot(archiveRoot, context.invokedFunctionArn) : undefined;
  const ledgers = await Promise.all(step.results.map((r) => (store ? readLedger(store, step.executionId, r.target) : undefined)));
  // A round whose step Step Functions gave up on (its invocation may still run) keeps the stage's lock until it
  // has ended at the latest; otherwise the lock is given back now.
  const inFlight = Math.max(0, ...ledgers.map((l) => Date.parse(l?.inFlightUntil ?? '') || 0));
  if (store) await releaseFanOutLock(store, step.executionId, Date.now(), inFlight);
  const merged = mergeSummaries(
    step.executionId,
    step.results.map((r, i) => ({ target: r.target, summaries: ledgers[i]?.summary ? [ledgers[i]!.summary!] : [], ...(r.error !== undefined ? { error: r.error } : {}) })),
  );
  await reporter.send(merged, reporter.collector().collected, { trigger: `${step.event.kind} (fan-out)`, deadline, invokedFunctionArn: context.invokedFunctionArn });
  log.info('fan-out merged', { executionId: step.executionId, targets: merged.targets.length, totals: merged.totals });
  return redactor.value(compactForFanOut(merged, 0)) as RunSummary;
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

/** How long a step may run, with a minute to spare: Lambda's 15 minutes. */
const STEP_LEASE_MS = 16 * 60_000;
/** How long the state machine may wait out a throttled step (its Retry on Lambda.TooManyRequestsException) before it. */
const THROTTLED_STEP_MS = 18 * 60_000;

/** The stage's archive root, where a fanned-out run keeps its lock and its targets' plans. */
function fanOutStore(context: Context): ArchiveStore {
  if (archiveRoot === undefined) throw new InputError('ARCHIVE_ROOT', 'fan-out needs the archive (stage param archive: true): one execution at a time and the run cap are kept there; nothing was done');
  return openArchiveStore(archiveRootFor(archiveRoot, context.invokedFunctionArn));
}


/**
 * One run of a scheduled or manual event: set up, run, archive, metrics. `direct`: the whole run in this invocation
 * (not one target of a fanned-out execution), which holds the stage's lock and sends the report.
 */
async function runEvent(
  run: LambdaRun & { kind: 'scheduled' | 'manual' },
  context: Context,
  invocation: {
    startedMs: number;
    deadline: AbortSignal;
    direct: boolean;
    /** A fanned-out target's round: what is left of its share of the run cap, in place of limits.maxDeletesPerRun. */
    maxDeletesPerRun?: number;
    /** Told every item's outcome (a fan-out plan, a round's count of what it acted on). */
    onOutcome?: (candidate: Candidate, outcome: Outcome) => void;
    /** False for a fan-out plan: a dry run for the execution's own use, not a run. */
    metrics?: boolean;
  },
): Promise<RunSummary> {
  const { startedMs, deadline } = invocation;
  const loaded = await setup;
  const { policySha256, allowedHosts, iamHttp } = loaded;
  const policy = invocation.maxDeletesPerRun === undefined ? loaded.policy : { ...loaded.policy, limits: { ...loaded.policy.limits, maxDeletesPerRun: invocation.maxDeletesPerRun } };
  // A manifest (from `oms-janitor plan --out`) is applied with the deployed policy, checked before any request. One
  // too large for the event is read from the stage's archive bucket (the only bucket the function may read).
  const manifestValue = run.kind === 'manual' && run.manifestUri !== undefined ? await readStoredManifest(run.manifestUri, context.invokedFunctionArn) : run.kind === 'manual' ? run.manifest : undefined;
  const manifest = manifestValue !== undefined ? parseManifest(manifestValue, run.kind === 'manual' && run.manifestUri ? run.manifestUri : 'event.manifest') : undefined;
  if (manifest) checkManifest(manifest, policy, Date.now(), DEFAULT_MANIFEST_MAX_AGE_MS, 'event.manifest');
  const secretId = process.env.OMS_CREDENTIALS_SECRET_ID;
  if (!secretId) throw new InputError('OMS_CREDENTIALS_SECRET_ID', 'is not set: name the Secrets Manager secret with the OMS credentials');
  const failures = failureCounter();
  const reportOutcomes = reporter.collector();
  const dryRunAsked = run.choices.dryRun === true || policy.dryRun;
  // The archive root: read by every run (progress between runs), written by real runs (their archive, the notice).
  // Outside Lambda (invoke local) a root naming {account} cannot be completed: a dry run goes on without it (its
  // noProgressFor rules then select nothing, said in the log); a real run fails (nothing unarchived is deleted).
  const root = archiveRoot === undefined ? undefined : dryRunAsked ? tryRoot(archiveRoot, context.invokedFunctionArn) : openArchiveStore(archiveRootFor(archiveRoot, context.invokedFunctionArn));
  // A real run invoked directly holds the stage's lock while it runs: with fan-out on, the function runs several
  // invocations at once, and this run must not overlap an execution (nor another direct run).
  const go = async (): Promise<RunSummary> => {
    const prepared = await prepareRun({
      policy,
      policySha256,
      allowedHosts,
      choices: run.choices,
      fieldNames: { targets: 'event.targets', taskIds: 'event.taskIds', stopFirst: 'event.stopFirst', acceptedOverLimit: 'event.manifest.acceptedOverLimit' },
      ...(manifest ? { manifest: { manifest, where: run.kind === 'manual' && run.manifestUri ? run.manifestUri : 'event.manifest' } } : {}),
      runCredentials: () => resolveSecretCredentials(secretId, secrets, { http: iamHttp, allowedHosts, region: regionsByProject(policy.targets), onSecret: (value: string) => redactor.add(value) }, { signal: deadline }),
      secrets,
      iamHttp,
      redactor,
      log,
      deadline,
      runId: context.awsRequestId,
      trigger: run.kind,
      ...(root ? { archiveRoot: root } : {}),
      noticeWindowMs,
      hooks: () => ({
        remainingTimeMs: () => context.getRemainingTimeInMillis(),
        onOutcome: (target, candidate, outcome) => {
          failures.onOutcome(target, candidate, outcome);
          reportOutcomes.onOutcome(target, candidate, outcome);
          invocation.onOutcome?.(candidate, outcome);
        },
        howToForce: manifest
          ? (target, kind) =>
              `a manifest is applied without force: plan again and accept it (oms-janitor plan --policy POLICY --target ${shellWord(target)} --accept-over-limit ${shellWord(`${target}:${kind}`)} --out plan.json), review plan.json, and invoke the function with {"manifest": <plan.json>, "dryRun": false}`
          : (target, kind) => `invoke the function with {"dryRun": false, "force": ${JSON.stringify(kind)}, "targets": [${JSON.stringify(target)}]}`,
      }),
    });
    log.info('invocation', { trigger: run.kind, dryRun: prepared.request.dryRun, credentials: prepared.credentialsKind ?? 'per-target', policyFile, ...(manifest ? { manifestTasks: manifest.tasks.length, manifestCreatedAt: manifest.createdAt } : {}) });
    const { summary, archived } = await prepared.execute();
    const counters = prepared.counters;
    const durationMs = Date.now() - startedMs;
    // Within the run's deadline, and it never throws: a report that cannot be sent is logged and counted, that is all.
    const report = invocation.direct ? await reporter.send(summary, reportOutcomes.collected, { trigger: run.kind, deadline, invokedFunctionArn: context.invokedFunctionArn }) : { status: 'skipped' as const };
    if (invocation.metrics !== false) publishRunMetrics(metrics, summary, { ...counters, ...failures.counts, reportsFailed: report.status === 'failed' ? 1 : 0, archiveFailed: archived ? 0 : 1 }, durationMs);
    return summary;
  };
  return invocation.direct && !dryRunAsked && root ? withStageLock(root, `run:${context.awsRequestId}`, STEP_LEASE_MS, go) : go();
}

/** The archive root of a dry run, or undefined when it cannot be completed here (no function ARN). */
function tryRoot(template: string, invokedFunctionArn: string | undefined) {
  try {
    return openArchiveStore(archiveRootFor(template, invokedFunctionArn));
  } catch {
    return undefined;
  }
}

/**
 * A manifest stored in the stage's archive bucket (`{"manifest": "s3://BUCKET/KEY"}`): only that bucket, whatever
 * the event says; a missing or unreadable object, or one that is not JSON, is an input error naming event.manifest.
 */
async function readStoredManifest(uri: string, invokedFunctionArn: string | undefined): Promise<unknown> {
  if (archiveRoot === undefined) throw new InputError('event.manifest', 'this stage has no archive bucket (stage param archive: false): send the manifest itself; nothing was done');
  const root = archiveRootFor(archiveRoot, invokedFunctionArn);
  const bucket = /^s3:\/\/([^/]+)/.exec(root)?.[1];
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (bucket === undefined || match?.[1] !== bucket) throw new InputError('event.manifest', `${JSON.stringify(uri)} is not in the stage's archive bucket (s3://${bucket ?? '?'}/…); nothing was done`);
  let bytes: Buffer | undefined;
  try {
    bytes = await openArchiveStore(`s3://${bucket}`).get(match[2]!);
  } catch (error) {
    throw new InputError('event.manifest', `${uri} could not be read (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}); nothing was done`);
  }
  if (bytes === undefined) throw new InputError('event.manifest', `${uri} does not exist; nothing was done`);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new InputError('event.manifest', `${uri} is not JSON; nothing was done`);
  }
}

/** A whole number of at least 1 from the environment (`fallback` when unset); anything else fails the cold start. */
function wholeNumberFromEnv(name: string, fallback: number): number {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  if (!/^[1-9]\d{0,5}$/.test(text)) throw new InputError(name, `must be a whole number from 1 (a stage param), not ${JSON.stringify(text.slice(0, 40))}`);
  return Number(text);
}
