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
import { compactForFanOut, hasWorkLeft, mergeSummaries } from '../lib/purge/merge.js';
import { releaseFanOutLock, takeFanOutLock } from '../lib/run/fan-out-lock.js';
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
export async function handler(event: unknown, context: Context): Promise<RunSummary | TargetsStepResult | TargetStepResult> {
  // RunDuration counts from here, as Lambda's timeout does: set-up (secrets, IAM tokens, the progress record) included.
  const startedMs = Date.now();
  logger.addContext(context);
  // Every request of the invocation (the secret read, IAM token requests, OMS calls and their retries) ends 10 s
  // before Lambda would cut the invocation off, so the summary and the metrics, or a clean error, are always
  // returned; new tasks already stop starting 30 s before (the engine's reserve).
  const deadline = AbortSignal.timeout(Math.max(1000, context.getRemainingTimeInMillis() - 10_000));
  try {
    const parsed = parseLambdaEvent(event);
    if (parsed.kind !== 'fanOut') return redactor.value(await runEvent(parsed, context, { startedMs, deadline, report: true })) as RunSummary;
    const { step } = parsed;
    if (step.step === 'targets') return fanOutTargets(step.event, step.executionId ?? context.awsRequestId, context);
    if (step.step === 'target') {
      // One target of a fanned-out run: its own invocation, budget and archive folder; the report waits for the merge.
      const onlyThis = { ...step.event, choices: { ...step.event.choices, targets: [step.target] } };
      const summary = redactor.value(await runEvent(onlyThis, context, { startedMs, deadline, report: false })) as RunSummary;
      // This round added to the earlier ones, kept small: the state machine carries it (256 KB per state).
      const rounds = [...(step.previous ? [step.previous as RunSummary] : []), summary];
      const combined = compactForFanOut(mergeSummaries(summary.runId, [{ target: step.target, summaries: rounds }]));
      return { target: step.target, event: step.rawEvent, round: step.round + 1, more: hasWorkLeft(summary), summary: combined };
    }
    const lockRoot = archiveRoot ? tryRoot(archiveRoot, context.invokedFunctionArn) : undefined;
    if (lockRoot) await releaseFanOutLock(lockRoot, step.executionId, Date.now());
    const merged = mergeSummaries(step.executionId, step.results.map((r) => ({ target: r.target, summaries: r.summary ? [r.summary as RunSummary] : [], ...(r.error !== undefined ? { error: r.error } : {}) })));
    await reporter.send(merged, reporter.collector().collected, { trigger: `${step.event.kind} (fan-out)`, deadline, invokedFunctionArn: context.invokedFunctionArn });
    log.info('fan-out merged', { executionId: step.executionId, targets: merged.targets.length, totals: merged.totals });
    return redactor.value(merged) as RunSummary;
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
}

/**
 * One target's invocation: its summary over its rounds so far, whether it stopped at its deadline with work left
 * (invoked again), the next round's number, and the run's event (the state machine passes it on).
 */
export interface TargetStepResult {
  target: string;
  event: unknown;
  round: number;
  more: boolean;
  summary: RunSummary;
}

async function fanOutTargets(run: LambdaRun & { kind: 'scheduled' | 'manual' }, executionId: string, context: Context): Promise<TargetsStepResult> {
  const { policy } = await setup;
  // One execution at a time: the lock lives in the archive root, which fan-out therefore needs.
  if (archiveRoot === undefined) throw new InputError('ARCHIVE_ROOT', 'fan-out needs the archive (stage param archive: true): one execution at a time is kept there; nothing was done');
  const asked = run.choices.targets;
  asked?.forEach((name, i) => {
    if (!policy.targets.some((t) => t.name === name)) throw new InputError(`event.targets[${i}]`, `unknown target ${JSON.stringify(name)}; nothing was done`);
  });
  if (noticeWindowMs > 0) throw new InputError('NOTICE_WINDOW', 'a notice window is not fanned out yet (one run consumes the notice); switch fanOut off for this stage; nothing was done');
  const lock = await takeFanOutLock(openArchiveStore(archiveRootFor(archiveRoot, context.invokedFunctionArn)), executionId, Date.now(), FAN_OUT_LEASE_MS);
  if ('heldBy' in lock) {
    log.warn('fan-out already running', { executionId, heldBy: lock.heldBy, until: lock.until, effect: 'this execution ends without touching anything' });
    return { targets: [], busy: lock.heldBy };
  }
  return { targets: policy.targets.map((t) => t.name).filter((name) => !asked || asked.includes(name)), busy: null };
}

/** How long an execution may hold the fan-out lock: its rounds of 15 minutes, with room to spare. */
const FAN_OUT_LEASE_MS = (Number(process.env.MAX_ROUNDS ?? 20) + 1) * 15 * 60_000;

/** One run of a scheduled or manual event: set up, run, archive, report (unless `report` is false), metrics. */
async function runEvent(
  run: LambdaRun & { kind: 'scheduled' | 'manual' },
  context: Context,
  invocation: { startedMs: number; deadline: AbortSignal; report: boolean },
): Promise<RunSummary> {
  const { startedMs, deadline } = invocation;
  const { policy, policySha256, allowedHosts, iamHttp } = await setup;
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
  const report = invocation.report ? await reporter.send(summary, reportOutcomes.collected, { trigger: run.kind, deadline, invokedFunctionArn: context.invokedFunctionArn }) : { status: 'skipped' as const };
  publishRunMetrics(metrics, summary, { ...counters, ...failures.counts, reportsFailed: report.status === 'failed' ? 1 : 0, archiveFailed: archived ? 0 : 1 }, durationMs);
  return summary;
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
