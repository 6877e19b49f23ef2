import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { regionsByProject } from '../lib/auth/iam.js';
import { checkStagePrefix, resolveSecretCredentials } from '../lib/auth/resolve.js';
import { createSecretSource, parseSecretCacheSeconds } from '../lib/auth/secret-source.js';
import { HostAllowList } from '../lib/http/allowed-hosts.js';
import { createHttp } from '../lib/http/client.js';
import { failureCounter, publishArchiveFailure, publishRunMetrics } from '../lib/purge/metrics.js';
import { ArchiveError, archiveRootFor, openArchiveStore } from '../lib/archive/store.js';
import { StdoutLogger, powertoolsLog } from '../lib/log/powertools.js';
import { Redactor } from '../lib/log/redact.js';
import { loadPolicyFile } from '../lib/policy/load.js';
import { DEFAULT_MANIFEST_MAX_AGE_MS, checkManifest, parseManifest } from '../lib/purge/manifest.js';
import { shellWord } from '../lib/log/terminal.js';
import { prepareRun } from '../lib/run/prepare-run.js';
import { parseDuration } from '../lib/policy/duration.js';
import { parseLambdaEvent, type LambdaRun } from '../lib/purge/event.js';
import type { Outcome } from '../lib/purge/outcome.js';
import { withStageLock } from '../lib/run/fan-out-lock.js';
import { STEP_LEASE_MS, fanOutMerge, fanOutPlan, fanOutRound, fanOutTargets, type FanOutContext, type PlanStepResult, type TargetStepResult, type TargetsStepResult } from '../lib/run/fan-out-steps.js';
import type { Candidate, Policy } from '../lib/policy/types.js';
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
    const ctx = fanOutContext(context, { startedMs, deadline }, (await setup).policy);
    if (step.step === 'targets') return await fanOutTargets(ctx, step.event, step.executionId ?? context.awsRequestId);
    if (step.step === 'plan') return await fanOutPlan(ctx, step);
    if (step.step === 'target') return await fanOutRound(ctx, step);
    return redactor.value(await fanOutMerge(ctx, step)) as RunSummary;
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

/** What the fan-out steps (lib/run/fan-out-steps.ts) need from this invocation. */
function fanOutContext(context: Context, clock: { startedMs: number; deadline: AbortSignal }, policy: Policy): FanOutContext {
  return {
    policy,
    log,
    maxRounds,
    concurrency: fanOutConcurrency,
    noticeWindowMs,
    store: () => {
      if (archiveRoot === undefined) throw new InputError('ARCHIVE_ROOT', 'fan-out needs the archive (stage param archive: true): one execution at a time and the run cap are kept there; nothing was done');
      return openArchiveStore(archiveRootFor(archiveRoot, context.invokedFunctionArn));
    },
    storeIfAny: () => (archiveRoot ? tryRoot(archiveRoot, context.invokedFunctionArn) : undefined),
    runEvent: async (run, options) => redactor.value(await runEvent(run, context, { ...clock, direct: false, ...options })) as RunSummary,
    report: (summary, trigger) => reporter.send(summary, reporter.collector().collected, { trigger, deadline: clock.deadline, invokedFunctionArn: context.invokedFunctionArn }),
  };
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
