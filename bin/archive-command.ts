import { parseArgs } from 'node:util';
import { listRuns, showRun, type ArchivedItem } from '../lib/archive/read.js';
import { ArchiveError, openArchiveStore } from '../lib/archive/store.js';
import { escapeJsonText, forTerminalLines, terminalSafeJson } from '../lib/log/terminal.js';
import { losslessText } from '../lib/oms/json.js';
import { parseDuration } from '../lib/policy/duration.js';
import type { CliIo } from './cli.js';
import { table } from './format.js';
import { ARCHIVE_HELP } from './help.js';


/** `oms-janitor archive list|show`: reads an archive; never changes anything. */
export async function archiveCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  const { values: v, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (v.help || sub === undefined) {
    (v.help ? io.stdout : io.stderr).write(ARCHIVE_HELP);
    return v.help ? 0 : 2;
  }
  if (sub !== 'list' && sub !== 'show') return usage(io, `archive: expected list or show, got ${JSON.stringify(sub)}`);
  if (!v.archive) return usage(io, '--archive ROOT is required (a directory or s3://BUCKET/PREFIX)');
  let sinceMs: number | undefined;
  if (v.since !== undefined) {
    if (sub !== 'list') return usage(io, '--since is for `archive list`');
    const since = parseDuration(v.since);
    if (!since.ok) return usage(io, `--since: ${since.message}`);
    sinceMs = Date.now() - since.ms;
  }
  if (sub === 'show' && rest.length !== 1) return usage(io, '`archive show` takes one RUN_ID');
  if (sub === 'list' && rest.length > 0) return usage(io, `unexpected argument ${JSON.stringify(rest[0])}`);
  let store;
  try {
    store = openArchiveStore(v.archive);
  } catch (error) {
    return usage(io, `--archive: ${(error as Error).message}`);
  }
  try {
    if (sub === 'list') {
      const runs = await listRuns(store, sinceMs === undefined ? {} : { sinceMs });
      if (v.json) io.stdout.write(`${terminalSafeJson({ root: store.root, runs })}\n`);
      else if (runs.length === 0) io.stdout.write(`No runs in ${forTerminalLines(store.root)}${v.since ? ` since ${v.since} ago` : ''}.\n`);
      else {
        const n = (x: number | undefined) => (x === undefined ? '?' : String(x));
        const rows = runs.map((r) => [r.startedAt ?? r.day, r.runId, n(r.deleted), n(r.failed), n(r.deferred), r.files.length === 3 ? '' : `incomplete: ${r.files.join(', ')}`]);
        io.stdout.write(`${table(['STARTED', 'RUN', 'DELETED', 'FAILED', 'DEFERRED', 'NOTES'], rows, [false, false, true, true, true, false])}\n`);
      }
      return 0;
    }
    const shown = await showRun(store, rest[0]!);
    if (v.json) {
      // Records as archived: their numbers written back exactly (an id above 2^53 too).
      io.stdout.write(`${escapeJsonText(losslessText(shown))}\n`);
      return 0;
    }
    const { run, items, summary } = shown;
    const head = `Run ${String(run.runId)} (${String(run.trigger)}), started ${String(run.startedAt)}: ${items.length} item(s) planned` + (summary ? `, finished ${summary.finishedAt}.` : ', no summary (the run ended before writing it).');
    io.stdout.write(`${forTerminalLines(head)}\n\n`);
    io.stdout.write(`${table(['TARGET', 'KIND', 'ID', 'NAME', 'STATUS', 'RULE', 'OUTCOME', 'DETAIL'], items.map(row), [])}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof ArchiveError ? error.message : `the archive at ${store.root} could not be read: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    io.stderr.write(`oms-janitor: ${forTerminalLines(message)}\n`);
    return 1;
  }
}

function row(item: ArchivedItem): string[] {
  const o = item.outcome;
  const detail = o === undefined ? 'no outcome recorded' : [o.reason, o.detail, o.httpStatus ? `HTTP ${String(o.httpStatus)}` : '', o.errorCode, o.errorMsg].filter(Boolean).join(' ');
  const name = item.name ?? (item.description || `${String((item as { sourceBucket?: string }).sourceBucket ?? '')} -> ${String((item as { destinationBucket?: string }).destinationBucket ?? '')}`);
  return [item.target, item.kind, item.id, name.length > 40 ? `${name.slice(0, 39)}…` : name, item.status ?? '?', item.rule, String(o?.outcome ?? '?'), detail];
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: { archive: { type: 'string' }, since: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
}

function usage(io: CliIo, problem: string): number {
  io.stderr.write(`oms-janitor: ${forTerminalLines(problem)}\nRun \`oms-janitor archive --help\` for usage.\n`);
  return 2;
}
