import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { openArchiveStore, type ArchiveStore } from '../lib/archive/store.js';
import { regionsByProject } from '../lib/auth/iam.js';
import { resolveCliCredentials } from '../lib/auth/resolve.js';
import { createSecretSource } from '../lib/auth/secret-source.js';
import { createHttp } from '../lib/http/client.js';
import { jsonLinesLog } from '../lib/log/json-lines.js';
import { Redactor } from '../lib/log/redact.js';
import { forTerminal, forTerminalLines, shellWord, terminalSafeJson } from '../lib/log/terminal.js';
import { LOG_LEVELS, type LogLevel } from '../lib/log/types.js';
import { KINDS, isKind, type Kind } from '../lib/oms/kinds.js';
import { HostAllowList } from '../lib/http/allowed-hosts.js';
import { loadPolicyFile } from '../lib/policy/load.js';
import { checkPolicyFile } from '../lib/policy/check.js';
import { parseDuration } from '../lib/policy/duration.js';
import type { Candidate, Policy } from '../lib/policy/types.js';
import {
  DEFAULT_MANIFEST_MAX_AGE_MS,
  ManifestError,
  buildManifest,
  checkManifest,
  leftOutText,
  parseManifest,
  type LeftOut,
  type Manifest,
  type OverLimitAcceptance,
} from '../lib/purge/manifest.js';
import { RunDeclined } from '../lib/purge/engine.js';
import { EmptyManifest, prepareRun } from '../lib/run/prepare-run.js';
import { logOutcome } from '../lib/purge/outcome-log.js';
import { createRunClient } from '../lib/purge/runtime.js';
import { exitCodeOf, kindRows, type RunSummary } from '../lib/purge/summary.js';
import { isInputError } from './errors.js';
import { REFUSED_ACTION, itemLabel, planAction, planRecords, planTable, summaryText, type PlanRow } from './format.js';
import { COMMAND_HELP, HELP } from './help.js';
import { progressReporter } from './progress.js';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  /** Where a confirmation is read from; asked only when this and stderr are terminals. */
  stdin?: Readable & { isTTY?: boolean };
}

const OPTIONS = {
  policy: { type: 'string' },
  'no-dry-run': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  target: { type: 'string', multiple: true },
  'task-id': { type: 'string', multiple: true },
  'stop-first': { type: 'boolean' },
  // `--force` (every kind) or `--force KIND` (repeatable): read as --force=* / --force=KIND (see parse).
  force: { type: 'string', multiple: true },
  'secret-id': { type: 'string' },
  'log-level': { type: 'string' },
  // A real purge or apply on a terminal asks first; --yes answers for the operator.
  yes: { type: 'boolean', short: 'y' },
  out: { type: 'string' },
  // purge/apply: a directory or s3://BUCKET/PREFIX where a real run archives what it deletes (lib/archive).
  archive: { type: 'string' },
  // purge --archive: delete only what was announced this long ago, announce the rest (lib/notice).
  notice: { type: 'string' },
  // plan --out: TARGET or TARGET:KIND whose selection over limits.maxDeletePercent the reviewer accepts (repeatable).
  'accept-over-limit': { type: 'string', multiple: true },
  manifest: { type: 'string' },
  'max-age': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Exit status: 0 done (dry runs included); 1 a task failed or a target was refused or stopped; 2 bad input. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const command = argv[0];
  if (command === undefined) {
    io.stderr.write(HELP);
    return 2;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    io.stdout.write(HELP);
    return 0;
  }
  if (command === '--version' || command === 'version') {
    io.stdout.write(`oms-janitor ${version()}\n`);
    return 0;
  }
  if (command === 'emulator') {
    const { runEmulatorCli } = await import('../emulator/index.js');
    try {
      await runEmulatorCli(argv.slice(1));
      return 0;
    } catch (error) {
      if (!isInputError(error)) throw error;
      return usage(io, (error as Error).message);
    }
  }
  if (command === 'validate') return validate(argv.slice(1), io);
  if (command === 'archive') return (await import('./archive-command.js')).archiveCommand(argv.slice(1), io);
  if (command !== 'purge' && command !== 'plan' && command !== 'apply') return usage(io, `unknown command ${JSON.stringify(command)}`);

  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv.slice(1));
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  const v = args.values;
  if (v.help) {
    io.stdout.write(COMMAND_HELP[command] ?? HELP);
    return 0;
  }
  if (args.positionals.length > 0) return usage(io, `unexpected argument ${JSON.stringify(args.positionals[0])}`);
  if (!v.policy) return usage(io, '--policy FILE is required');
  if (command === 'plan' && (v['no-dry-run'] || v['task-id'] || v['stop-first'] || v.force)) {
    return usage(io, '`plan` is always a dry run of the policy; use `purge` for --no-dry-run, --task-id, --stop-first, --force');
  }
  if (command === 'apply') {
    if (!v.manifest) return usage(io, '`apply` needs --manifest FILE (written by `oms-janitor plan --out FILE`)');
    const other = (['target', 'task-id', 'stop-first', 'force', 'out'] as const).find((name) => v[name] !== undefined);
    if (other) return usage(io, `--${other} does not go with \`apply\`: the manifest says which tasks, and the policy's limits apply`);
  } else if (v.manifest || v['max-age']) {
    return usage(io, `--manifest and --max-age are for \`apply\``);
  }
  if (command !== 'plan' && v.out) return usage(io, '--out is for `plan` (it writes the manifest that `apply` reads)');
  let noticeMs = 0;
  if (v.notice !== undefined) {
    if (command !== 'purge') return usage(io, '--notice is for `purge` (`apply` applies a reviewed manifest at once)');
    const window = parseDuration(v.notice);
    if (!window.ok) return usage(io, `--notice: ${window.message}`);
    if (window.ms > 0 && v.archive === undefined) return usage(io, '--notice needs --archive ROOT: the pending notice is kept there, between runs');
    if (window.ms > 0 && v['task-id']) return usage(io, '--task-id does not go with --notice: the window exists so that nothing is deleted without notice; plan --out and apply a reviewed list instead');
    noticeMs = window.ms;
  }
  if (v['accept-over-limit'] && command !== 'plan') {
    return usage(io, '--accept-over-limit is for `plan --out` (the acceptance is recorded in the manifest that `apply` reads)');
  }
  if (v['accept-over-limit'] && !v.out) return usage(io, '--accept-over-limit needs --out MANIFEST: the acceptance is recorded in the manifest, and `apply` honours it');
  const acceptedBy = v['accept-over-limit'] ? operator(io.env) : '';
  const acceptedAt = new Date().toISOString();
  let maxAgeMs = DEFAULT_MANIFEST_MAX_AGE_MS;
  if (v['max-age'] !== undefined) {
    const age = parseDuration(v['max-age']);
    if (!age.ok) return usage(io, `--max-age: ${age.message}`);
    maxAgeMs = age.ms;
  }
  if (v['no-dry-run'] && v['dry-run']) return usage(io, '--dry-run and --no-dry-run contradict each other');
  const forcing = forceOf(v.force);
  if ('problem' in forcing) return usage(io, forcing.problem);
  const forced = forcing.force;
  const level = (v['log-level'] ?? (io.stderr.isTTY ? 'WARN' : 'INFO')).toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) return usage(io, `--log-level: expected one of ${LOG_LEVELS.join(', ')}`);

  const redactor = new Redactor();
  const log = jsonLinesLog((line) => io.stderr.write(line), { redactor, level, context: { service: 'oms-task-janitor' } });
  try {
    // Where credentials may go: loopback, Huawei Cloud's API domains, and what the operator allows in the environment.
    const allowedHosts = HostAllowList.fromEnv(io.env);
    const { policy, sha256 } = await loadPolicyFile(v.policy, { allowedHosts });
    const targetNames = new Set(policy.targets.map((t) => t.name));
    const accepting = (v['accept-over-limit'] ?? []).map((value) => ({ ...acceptanceOf(value, targetNames), acceptedBy, acceptedAt }));
    // Where the manifest goes is checked before anything is listed: a plan of 100k items is not lost to a typo.
    if (v.out !== undefined) {
      const problem = v.out.startsWith('s3://') ? s3Problem(v.out) : await unwritable(v.out);
      if (problem) return usage(io, `--out: ${problem}`);
    }
    // Where a real run archives what it deletes is checked before anything is listed: a run that cannot archive
    // must not find out after listing 100k items (and an S3 root that refuses the write still stops it, unchanged).
    let store: ArchiveStore | undefined;
    if (v.archive !== undefined) {
      try {
        store = openArchiveStore(v.archive);
      } catch (error) {
        return usage(io, `--archive: ${(error as Error).message}`);
      }
      if (v['no-dry-run'] && !v.archive.startsWith('s3://')) {
        const problem = await unwritableDirectory(v.archive);
        if (problem) return usage(io, `--archive: ${problem}`);
      }
    }
    // Applying: the manifest is checked (valid, young enough, for this policy's targets) before any request.
    const manifest = v.manifest === undefined ? undefined : await readManifest(v.manifest, policy, maxAgeMs);
    // The words every command the run suggests repeats: the policy and the secret (the target is the refused one's).
    const policyWords = ['--policy', v.policy, ...(v['secret-id'] ? ['--secret-id', v['secret-id']] : [])].map(shellWord).join(' ');
    // A refused selection goes through a review: a plan that accepts it into a manifest, then apply (plan and apply),
    // or a forced purge (purge). Applying a manifest, a refused target is never steered to a forced run by the rules
    // (it would delete items nobody reviewed): the way on is a new plan, reviewed.
    const acceptAndApply = (target: string, kind: Kind) =>
      `oms-janitor plan ${policyWords} --target ${shellWord(target)} --accept-over-limit ${shellWord(`${target}:${kind}`)} --out plan.json; ` +
      `review plan.json, then: oms-janitor apply ${policyWords} --manifest plan.json --no-dry-run`;
    const howToForce =
      command === 'purge'
        ? (target: string, kind: Kind) => `oms-janitor purge ${policyWords} --target ${shellWord(target)} --no-dry-run --force ${kind}`
        : command === 'apply'
          ? (target: string, kind: Kind) => `apply has no --force; plan again and accept it: ${acceptAndApply(target, kind)}`
          : acceptAndApply;
    const rows: PlanRow[] = [];
    const planned: { target: string; candidate: Candidate }[] = [];
    // What the plan selected but a manifest will not hold (refused targets, the run cap): said in the manifest.
    const leftOut: LeftOut[] = [];
    const records = jsonLinesLog((line) => io.stderr.write(line), { redactor, level: 'INFO', context: { service: 'oms-task-janitor' } });
    const progress = !v.json && io.stderr.isTTY ? progressReporter(io.stderr) : undefined;
    const runId = randomUUID();
    // One Secrets Manager source for the run's secret and every target's own (another account's).
    const secrets = createSecretSource({ cacheSeconds: 0 });
    const iamHttp = createHttp({ allowedHosts });
    const prepared = await prepareRun({
      policy,
      policySha256: sha256,
      allowedHosts,
      choices: {
        dryRun: !v['no-dry-run'],
        targets: v.target,
        taskIds: v['task-id'],
        stopFirst: v['stop-first'],
        force: forced,
        ...(accepting.length ? { acceptedOverLimit: accepting } : {}),
      },
      fieldNames: { targets: '--target', taskIds: '--task-id', stopFirst: '--stop-first', acceptedOverLimit: '--accept-over-limit' },
      ...(manifest ? { manifest: { manifest, where: v.manifest! } } : {}),
      runCredentials: () =>
        resolveCliCredentials({ secretId: v['secret-id'] }, io.env, { http: iamHttp, allowedHosts, secrets, region: regionsByProject(policy.targets), onSecret: (value: string) => redactor.add(value) }),
      secrets,
      iamHttp,
      redactor,
      log,
      runId,
      trigger: `cli ${command}`,
      ...(store ? { archiveRoot: store } : {}),
      // `apply` bypasses a notice window: a person reviewed the manifest.
      ...(command === 'purge' && noticeMs ? { noticeWindowMs: noticeMs } : {}),
      hooks: (request) => {
        // Asked whenever a person is at the keyboard: stdin a terminal, and stderr or stdout one to ask on.
        const confirming = !request.dryRun && !v.yes && (io.stderr.isTTY === true || io.stdout.isTTY === true) && io.stdin?.isTTY === true;
        return {
          ...(progress ? { onProgress: progress.update } : {}),
          onOutcome: (target, candidate, outcome) => {
            rows.push({ target: target.name, candidate, action: planAction(outcome, candidate) });
            if (outcome.kind === 'would-delete') planned.push({ target: target.name, candidate });
            if (outcome.kind === 'deferred' && outcome.reason === 'run-cap') {
              const same = leftOut.find((l) => l.target === target.name && l.kind === candidate.item.kind && l.reason === 'run-cap');
              if (same) same.count += 1;
              else leftOut.push({ target: target.name, kind: candidate.item.kind, count: 1, reason: 'run-cap' });
            }
            // Every deletion leaves a trace whatever the log level: below INFO (a terminal's default is WARN) it is
            // written anyway, compact on a terminal, the usual JSON line otherwise.
            if (outcome.kind === 'deleted' && level !== 'DEBUG' && level !== 'INFO') {
              if (io.stderr.isTTY) io.stderr.write(redactor.text(`\r\x1b[2K${deletedLine(target.name, candidate, outcome.alreadyGone)}\n`));
              else logOutcome(records, target.name, candidate, outcome, manifest ? { from: 'manifest' } : {});
            }
          },
          ...(confirming ? { confirm: (going) => confirmRun(io, going) } : {}),
          onRefused: (target, candidates) => {
            rows.push(...candidates.map((candidate) => ({ target: target.name, candidate, action: REFUSED_ACTION })));
            if (candidates[0]) leftOut.push({ target: target.name, kind: candidates[0].item.kind, count: candidates.length, reason: 'refused' });
          },
          howToForce,
        };
      },
    });
    const { summary, archived } = await prepared.execute();
    progress?.end();
    if (!archived) {
      io.stderr.write(`oms-janitor: --archive: the outcomes of run ${runId} could not be archived under ${forTerminalLines(v.archive ?? '')} (its plan was); see the log line "archive failed"\n`);
    }
    // Every output path is redacted (a server may echo a token in an error message); the text is also escaped for
    // the terminal (format.ts), and the JSON keeps the exact text.
    if (v.json) {
      // `plan --json` adds the plan's rows to the summary, so that the machine-readable plan says which tasks, too.
      const document = command === 'plan' ? { ...summary, plan: planRecords(rows, Date.parse(summary.startedAt)) } : summary;
      io.stdout.write(`${terminalSafeJson(redactor.value(document))}\n`);
    } else {
      // A target, or a kind in it, that could not be listed: an empty plan must not read as "nothing to do".
      const unlisted = summary.targets.flatMap((t) => kindRows(t).filter((r) => r.error !== undefined).map((r) => (r.kind === 'task' ? t.name : `${t.name} (${r.kind})`)));
      if (command === 'plan') io.stdout.write(redactor.text(`${planTable(rows, Date.parse(summary.startedAt), unlisted)}\n\n`));
      // The hint repeats this run's scope (targets, secret), so following it never widens what was reviewed.
      const scope = [v.policy, ...(v.target ?? []).flatMap((t) => ['--target', t]), ...(v['secret-id'] ? ['--secret-id', v['secret-id']] : [])];
      io.stdout.write(redactor.text(`${summaryText(summary, command, howToForce, scope)}\n`));
    }
    // The manifest after the plan is shown: a write that fails (a full disk) still leaves the plan on the screen.
    if (v.out !== undefined) {
      const accepted = acceptances(accepting, summary, planned);
      const document = buildManifest(Date.parse(summary.startedAt), sha256, policy, planned, { leftOut, acceptedOverLimit: accepted.recorded });
      try {
        const text = `${JSON.stringify(document, null, 2)}\n`;
        // s3://BUCKET/KEY: a manifest too large for a Lambda event, applied there with {"manifest": "s3://BUCKET/KEY"}.
        if (v.out.startsWith('s3://')) await objectAt(v.out).store.put(objectAt(v.out).key, Buffer.from(text), 'application/json');
        else await writeFileAtomic(v.out, text);
      } catch (error) {
        const why = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        io.stderr.write(`oms-janitor: --out: could not write ${forTerminalLines(v.out)} (${forTerminalLines(why)}): the plan above was not saved\n`);
        return 2;
      }
      log.info('manifest written', {
        file: v.out,
        tasks: document.tasks.length,
        ...(leftOut.length ? { leftOut } : {}),
        ...(document.acceptedOverLimit ? { acceptedOverLimit: document.acceptedOverLimit } : {}),
        ...(accepted.notRecorded.length ? { acceptanceNotRecorded: accepted.notRecorded } : {}),
      });
      // With --json, stdout is the one JSON document: these notes are in the log line above (and the manifest).
      if (v.json) return exitCodeOf(summary);
      if (leftOut.length > 0) io.stdout.write(`The manifest leaves out what the plan selected but would not delete: ${forTerminalLines(leftOutText(leftOut))}.\n`);
      for (const a of accepted.recorded) {
        io.stdout.write(
          forTerminalLines(
            `Accepted over limits.maxDeletePercent by ${a.acceptedBy}: ${a.target} (${a.kind}), ${a.selected} selected of ${a.listed} listed; ` +
              `apply lets exactly the ${a.items} planned item(s) through, each only if the policy still selects it.`,
          ) + '\n',
        );
      }
      for (const a of accepted.notRecorded) {
        io.stdout.write(`${forTerminalLines(`--accept-over-limit ${a.value}: not recorded, ${a.why}.`)}\n`);
      }
    }
    return exitCodeOf(summary);
  } catch (error) {
    if (isInputError(error)) {
      io.stderr.write(`oms-janitor: ${forTerminalLines(redactor.text((error as Error).message))}\n`);
      return 2;
    }
    if (error instanceof RunDeclined || error instanceof EmptyManifest) {
      io.stderr.write(`oms-janitor: ${forTerminalLines(redactor.text(error.message))}\n`);
      return 1;
    }
    log.error('run aborted', { error });
    io.stderr.write(`oms-janitor: ${forTerminalLines(redactor.text(error instanceof Error ? error.message : String(error)))}\n`);
    return 1;
  }
}

/** The manifest file, validated and checked against the policy (ManifestError, exit 2, when it may not be applied). */
async function readManifest(file: string, policy: Policy, maxAgeMs: number): Promise<Manifest> {
  let text: string;
  try {
    if (file.startsWith('s3://')) {
      const { store, key } = objectAt(file);
      const bytes = await store.get(key);
      if (bytes === undefined) throw Object.assign(new Error('no such object'), { code: 'NoSuchKey' });
      text = bytes.toString('utf8');
    } else text = await readFile(file, 'utf8');
  } catch (cause) {
    const why = (cause as NodeJS.ErrnoException).code ?? (cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause));
    throw new ManifestError(file, '(the file)', `cannot be read (${why})`);
  }
  let value: unknown;
  try {
    // Task ids are strings in a manifest, so JSON.parse loses nothing; a number where an id belongs is refused.
    value = JSON.parse(text);
  } catch {
    throw new ManifestError(file, '(the file)', 'is not JSON');
  }
  const manifest = parseManifest(value, file);
  checkManifest(manifest, policy, Date.now(), maxAgeMs, file);
  return manifest;
}

/** Written whole or not at all: a manifest cut short by a full disk or a kill must not be applied as if complete. */
async function writeFileAtomic(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, file);
}

/** One deletion as a person reads it on a terminal: kind, id, what it is recognised by, the rule. */
function deletedLine(target: string, candidate: Candidate, alreadyGone: boolean): string {
  const { item } = candidate;
  return forTerminal(`deleted ${item.kind} ${item.id} ${JSON.stringify(itemLabel(item))} in ${target} (rule ${candidate.rule})${alreadyGone ? ', already gone' : ''}`);
}

/**
 * Asks the person at the terminal before a real run changes anything: what will go, per target and kind, and the
 * count to type back. Anything else is a no.
 */
async function confirmRun(io: CliIo, going: readonly { target: string; kind: Kind; count: number }[]): Promise<boolean> {
  const total = going.reduce((n, g) => n + g.count, 0);
  const lines = going.map((g) => `  ${g.target}: ${g.count} ${g.kind === 'task' ? 'task' : g.kind === 'taskGroup' ? 'task group' : 'sync task'}${g.count === 1 ? '' : 's'}`);
  // The question goes where the person reads: stderr on a terminal, else stdout (stderr redirected to a log file).
  const prompt = io.stderr.isTTY ? io.stderr : io.stdout;
  prompt.write(`\r\x1b[2KAbout to delete (pausing first where OMS needs it):\n${forTerminalLines(lines.join('\n'))}\n`);
  const rl = createInterface({ input: io.stdin!, output: prompt, terminal: false });
  try {
    // End of input (Ctrl-D, a closed terminal) is a no: on Node 20 question() would otherwise never settle.
    const answer = await new Promise<string | undefined>((resolve) => {
      rl.once('close', () => resolve(undefined));
      rl.question(`Type ${total} to delete them, anything else to stop: `).then(resolve, () => resolve(undefined));
    });
    return answer?.trim() === String(total);
  } finally {
    rl.close();
  }
}

/** Why a manifest could not be written to `file` (its folder missing or read-only, a folder of that name), if so. */
async function unwritable(file: string): Promise<string | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) return `${file} is a directory`;
  try {
    await access(dirname(resolve(file)), constants.W_OK);
    return undefined;
  } catch (error) {
    return `cannot write in ${dirname(resolve(file))} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}

/** `s3://BUCKET/KEY` as a store of that bucket and a key in it (validated by s3Problem first). */
function objectAt(uri: string): { store: ArchiveStore; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
  return { store: openArchiveStore(`s3://${match[1]}`), key: match[2]! };
}

/** Why an s3:// location cannot name a manifest, if so. */
function s3Problem(uri: string): string | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match || match[2]!.endsWith('/')) return `expected s3://BUCKET/KEY, got ${JSON.stringify(uri)}`;
  // The archive's own places (a stage bucket's root holds runs/, pending/ and state/): a manifest never replaces them.
  if (/^(runs|pending|state)\//.test(match[2]!)) return `${JSON.stringify(uri)} is where the archive keeps its runs, notice or state; write manifests elsewhere (manifests/…)`;
  try {
    openArchiveStore(`s3://${match[1]}`);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Why an archive directory could not be written (created if missing), if so. */
async function unwritableDirectory(dir: string): Promise<string | undefined> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) return `${dir} is not a directory`;
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    return undefined;
  } catch (error) {
    return `cannot write in ${dir} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}

/** The package's version (package.json beside bin/ and dist/). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * `oms-janitor validate --policy FILE [--json]`: the policy checked offline, exactly as a run loads it (schema,
 * placeholder project ids, regions, the allow-list), plus warnings about protections that reach none of the kinds the
 * rules delete. Exit 0 when valid (warnings included), 2 when not. No credentials, no request.
 */
async function validate(argv: string[], io: CliIo): Promise<number> {
  let values: { policy?: string; json?: boolean; help?: boolean };
  try {
    values = parseArgs({ args: argv, options: { policy: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  if (values.help) {
    io.stdout.write(COMMAND_HELP.validate!);
    return 0;
  }
  const file = values.policy;
  if (!file) return usage(io, '--policy FILE is required');
  try {
    const { policy, sha256, warnings } = await checkPolicyFile(file, io.env);
    if (values.json) {
      io.stdout.write(`${terminalSafeJson({ file, valid: true, sha256, targets: policy.targets.length, rules: policy.rules.length, warnings })}\n`);
    } else {
      const kinds = [...new Set(policy.rules.map((rule) => rule.kind))].join(', ');
      io.stdout.write(`${forTerminalLines(`${file}: valid (${policy.targets.length} target(s), ${policy.rules.length} rule(s) on ${kinds})`)}\n`);
      for (const w of warnings) io.stdout.write(`${forTerminalLines(`  warning: ${w.field}: ${w.message}`)}\n`);
    }
    return 0;
  } catch (error) {
    if (!isInputError(error)) throw error;
    if (values.json) io.stdout.write(`${terminalSafeJson({ file, valid: false, error: (error as Error).message })}\n`);
    io.stderr.write(`oms-janitor: ${forTerminalLines((error as Error).message)}\n`);
    return 2;
  }
}

/** `--force` takes an optional kind: `--force` alone is every kind (`*`), `--force syncTask` only that one. */
function parse(argv: string[]) {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--force') args.push(argv[i]!);
    else if (isKind(argv[i + 1])) args.push(`--force=${argv[++i]}`);
    else args.push('--force=*');
  }
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

/**
 * `--accept-over-limit TARGET[:KIND]`: a target (every kind of it), or one kind of it. A target name may hold colons:
 * a value that is a target's whole name is that target.
 */
function acceptanceOf(value: string, targetNames: ReadonlySet<string>): { target: string; kind?: Kind } {
  if (targetNames.has(value)) return { target: value };
  const colon = value.lastIndexOf(':');
  const kind = colon < 0 ? undefined : value.slice(colon + 1);
  return isKind(kind) ? { target: value.slice(0, colon), kind } : { target: value };
}

/**
 * What `plan --accept-over-limit` records in the manifest: each accepted target and kind whose selection was over
 * limits.maxDeletePercent (and let through for this plan), with the items it covers, who and when. An acceptance of
 * something that was not over the limit is not recorded (it would let a later apply past a limit nobody reviewed).
 */
function acceptances(
  accepting: readonly { target: string; kind?: Kind; acceptedBy: string; acceptedAt: string }[],
  summary: RunSummary,
  planned: readonly { target: string; candidate: Candidate }[],
): { recorded: Omit<OverLimitAcceptance, 'itemsSha256'>[]; notRecorded: { value: string; why: string }[] } {
  const recorded: Omit<OverLimitAcceptance, 'itemsSha256'>[] = [];
  const notRecorded: { value: string; why: string }[] = [];
  for (const a of accepting) {
    const value = a.kind ? `${a.target}:${a.kind}` : a.target;
    const target = summary.targets.find((t) => t.name === a.target);
    const over = target ? kindRows(target).filter((r) => r.limitOverridden && (a.kind === undefined || r.kind === a.kind)) : [];
    if (over.length === 0) {
      notRecorded.push({ value, why: 'nothing of it was over limits.maxDeletePercent' });
      continue;
    }
    for (const row of over) {
      if (recorded.some((r) => r.target === a.target && r.kind === row.kind)) continue;
      const items = planned.filter((p) => p.target === a.target && p.candidate.item.kind === row.kind).length;
      // Over the limit, but the run cap left none of it in this plan: nothing to accept (the manifest's leftOut says so).
      if (items === 0) notRecorded.push({ value: `${a.target}:${row.kind}`, why: 'none of its items is in the manifest (all over limits.maxDeletesPerRun: plan again once runs have made room)' });
      else recorded.push({ target: a.target, kind: row.kind, items, selected: row.selected, listed: row.listed, acceptedBy: a.acceptedBy, acceptedAt: a.acceptedAt });
    }
  }
  return { recorded, notRecorded };
}

/** Who accepts, for the manifest's record: OMS_JANITOR_OPERATOR if set, else user@host of this machine. */
function operator(env: NodeJS.ProcessEnv): string {
  if (env.OMS_JANITOR_OPERATOR) return env.OMS_JANITOR_OPERATOR;
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A container user without a passwd entry.
    user = env.USER || env.LOGNAME || 'unknown';
  }
  return `${user}@${hostname()}`;
}

/** --force's values as the request takes them: true for every kind, or the kinds named. */
function forceOf(values: readonly string[] | undefined): { force?: true | Kind[] } | { problem: string } {
  if (values === undefined) return {};
  if (values.includes('*')) return { force: true };
  const bad = values.find((value) => !isKind(value));
  if (bad !== undefined) return { problem: `--force: expected a kind (${KINDS.join(', ')}) or nothing, got ${JSON.stringify(bad)}` };
  return { force: values as Kind[] };
}

function usage(io: CliIo, problem: string): number {
  io.stderr.write(`oms-janitor: ${forTerminalLines(problem)}\nRun \`oms-janitor --help\` for usage.\n`);
  return 2;
}
