/**
 * lib/run composes the lib folders below it (purge, archive, notice, auth, …) and nothing imports it but the entry
 * points: the one run set-up every entry point shares (the CLI, the Lambda handler): from the policy, the run's choices and
 * an optional manifest, it builds the request, resolves the credentials (the run's, read only when a target needs
 * them, and each target's own), registers every secret with the redactor, builds the run client, and wires the
 * archive, the progress record and the notice window. The entry point only parses its input, adds its own hooks
 * (a plan table, a confirmation, a report) and presents the result.
 */
import { ProgressRecord } from '../archive/progress.js';
import { RunArchive } from '../archive/run-archive.js';
import type { ArchiveStore } from '../archive/store.js';
import { regionsByProject } from '../auth/iam.js';
import { logTargetCredentials, resolveTargetCredentials, type AuthenticatorDeps, type ResolvedCredentials } from '../auth/resolve.js';
import { secretValues } from '../auth/secrets.js';
import type { SecretSource } from '../auth/secret-source.js';
import type { HostAllowList } from '../http/allowed-hosts.js';
import type { Http } from '../http/types.js';
import type { EventLog } from '../log/types.js';
import type { Redactor } from '../log/redact.js';
import { warnIfNoticeIgnored } from '../notice/notice.js';
import { runUnderNotice } from '../notice/run.js';
import type { Policy, Target } from '../policy/types.js';
import { runPurge, type EngineDeps, type PurgeRequest } from '../purge/engine.js';
import { leftOutText, manifestChoices, policyChangeNotice, type Manifest } from '../purge/manifest.js';
import { InputError, buildRequest, type RunChoices } from '../purge/request.js';
import { createRunClient, type HttpCounters } from '../purge/runtime.js';
import type { RunSummary } from '../purge/summary.js';
import { collectListingGarbage } from './heap.js';

/** A manifest that plans nothing: said as such (CLI exit 1, an invocation error), never "0 deleted". */
export class EmptyManifest extends Error {
  override name = 'EmptyManifest';
}

type Hooks = Pick<EngineDeps, 'onOutcome' | 'onRefused' | 'confirm' | 'onProgress' | 'remainingTimeMs' | 'howToForce'>;

export interface RunSetup {
  policy: Policy;
  policySha256: string;
  allowedHosts: HostAllowList;
  /** What the entry point was asked (flags, or a manual event), and what it calls each choice in errors. */
  choices: RunChoices;
  fieldNames: { targets: string; taskIds: string; stopFirst: string; acceptedOverLimit?: string };
  /** A manifest to apply (already validated and checked against the policy), and where it came from, for messages. */
  manifest?: { manifest: Manifest; where: string };
  /** The run's own credentials (CLI: flags and environment; Lambda: the stage's secret), read only when some target has none of its own. */
  runCredentials: () => Promise<ResolvedCredentials>;
  /** Reads every target's own secret (another account's). */
  secrets: SecretSource;
  /** The HTTP wrapper IAM token requests go through. */
  iamHttp: Http;
  redactor: Redactor;
  log: EventLog;
  /** Ends every request of the run (the Lambda's deadline). */
  deadline?: AbortSignal;
  runId: string;
  /** What started the run, for the archive (`cli purge`, `scheduled`, `manual`). */
  trigger: string;
  /** The archive root, completed: read by every run (progress), written by real ones (archive, notice). */
  archiveRoot?: ArchiveStore;
  /** A notice window (0 or absent: none). Real runs without a manifest only. */
  noticeWindowMs?: number;
  /** The entry point's own hooks, once the request is known. `onOutcome` is told after the archive. */
  hooks: (request: PurgeRequest) => Partial<Hooks>;
}

export interface PreparedRun {
  request: PurgeRequest;
  runTargets: Target[];
  counters: HttpCounters;
  /** How the run's own credentials came (`token`, `aksk`, `password`), when they were needed. */
  credentialsKind?: string;
  /** Runs it (under the notice window when one applies), then saves the progress record and finishes the archive. */
  execute(): Promise<{ summary: RunSummary; archived: boolean }>;
}

export async function prepareRun(setup: RunSetup): Promise<PreparedRun> {
  const { policy, log, redactor, manifest } = setup;
  if (manifest) {
    // An empty manifest is said to be one: "0 deleted" would read as a cleanup that went well.
    if (manifest.manifest.tasks.length === 0) {
      const why = manifest.manifest.leftOut?.length ? `; the plan left out ${leftOutText(manifest.manifest.leftOut)}` : '';
      throw new EmptyManifest(`${manifest.where}: the manifest plans nothing to delete${why}: nothing was done`);
    }
    const changed = policyChangeNotice(manifest.manifest, setup.policySha256);
    if (changed) log.warn('policy changed since the plan', { manifest: manifest.where, ...changed });
  }
  const request = buildRequest(policy, { ...setup.choices, ...(manifest ? manifestChoices(manifest.manifest) : {}) }, setup.fieldNames);
  const store = request.dryRun ? undefined : setup.archiveRoot;
  // A notice window applies to a real run without a manifest (a reviewed manifest bypasses it).
  const underNotice = (setup.noticeWindowMs ?? 0) > 0 && store !== undefined && manifest === undefined;
  if (underNotice && request.taskIds) {
    throw new InputError(setup.fieldNames.taskIds, 'does not go with a notice window: nothing is deleted without notice; apply a reviewed manifest instead; nothing was done');
  }

  const runTargets = policy.targets.filter((t) => !request.targets || request.targets.includes(t.name));
  const authDeps: AuthenticatorDeps = { http: setup.iamHttp, allowedHosts: setup.allowedHosts, region: regionsByProject(policy.targets), onSecret: (value) => redactor.add(value) };
  let run: ResolvedCredentials | undefined;
  if (runTargets.some((t) => t.credentials === undefined)) {
    run = await setup.runCredentials();
    redactor.add(...secretValues(run.credentials));
    log.info('credentials resolved', { source: run.source, kind: run.kind });
  }
  const signal = setup.deadline ? { signal: setup.deadline } : {};
  const targetCredentials = await resolveTargetCredentials(runTargets, setup.secrets, { ...authDeps, onResolved: (c) => redactor.add(...secretValues(c)) }, signal);
  logTargetCredentials(log, runTargets, targetCredentials);
  const { oms, counters, clientFor } = createRunClient(policy, run?.authenticator, { log, allowedHosts: setup.allowedHosts, targetCredentials, ...(setup.deadline ? { deadline: setup.deadline } : {}) });

  const progress = setup.archiveRoot ? await ProgressRecord.load(setup.archiveRoot, log) : undefined;
  const archive = store
    ? new RunArchive(store, { runId: setup.runId, startedAtMs: Date.now(), trigger: setup.trigger, policySha256: setup.policySha256, targets: runTargets, redact: (text) => redactor.text(text), log })
    : undefined;
  const hooks = setup.hooks(request);
  const deps: EngineDeps & { runId: string } = {
    ...hooks,
    runId: setup.runId,
    oms,
    clientFor,
    log,
    ...(progress ? { progress } : {}),
    ...(archive ? { recorder: archive } : {}),
    onOutcome: (target, candidate, outcome) => {
      archive?.onOutcome(target, candidate, outcome);
      hooks.onOutcome?.(target, candidate, outcome);
    },
    onProgress: (progress) => {
      // The last listing is done: its garbage goes before selection, where the run's memory peaks.
      if (progress.phase === 'list' && progress.done === progress.total) collectListingGarbage();
      hooks.onProgress?.(progress);
    },
    closingFields: () => ({ http: { ...counters } }),
  };
  return {
    request,
    runTargets,
    counters,
    ...(run ? { credentialsKind: run.kind } : {}),
    execute: async () => {
      if (store && !underNotice && manifest === undefined) await warnIfNoticeIgnored(store, log);
      const summary = underNotice ? await runUnderNotice(store!, request, deps, { windowMs: setup.noticeWindowMs!, policySha256: setup.policySha256 }) : await runPurge(request, deps);
      if (progress && store) {
        await progress.save(store, Date.now()).catch((error: unknown) => log.error('progress record not saved', { reason: error instanceof Error ? error.message : String(error) }));
      }
      // Written also when the run stopped at its deadline (the engine returns its summary then); never throws.
      const archived = archive ? await archive.finish(summary) : true;
      return { summary, archived };
    },
  };
}
