import { z } from 'zod';
import { KINDS } from '../oms/kinds.js';
import { InputError, type RunChoices } from './request.js';

/**
 * A manual invocation: `{"dryRun"?, "targets"?, "taskIds"?, "stopFirst"?, "force"?}`, or `{"manifest", "dryRun"?}`. Strict, so that a typo such as
 * `dryrun` is refused with nothing done instead of silently running a dry run (or worse, a real one).
 */
const manualEvent = z.strictObject({
  dryRun: z.boolean().optional(),
  targets: z.array(z.string()).optional(),
  // Strings only: a JSON number above 2^53 would already have been rounded into another id by JSON.parse.
  taskIds: z.array(z.string()).optional(),
  stopFirst: z.boolean().optional(),
  // true: every kind; a kind or a list of kinds: only those ("force": "syncTask").
  force: z.union([z.boolean(), z.enum(KINDS), z.array(z.enum(KINDS)).min(1)]).optional(),
  // A manifest from `oms-janitor plan --out` (lib/purge/manifest.ts validates it, naming `event.manifest.…`).
  manifest: z.unknown().optional(),
});

/** `manifest`: a manual run that applies this manifest (still to be validated: parseManifest). */
export type LambdaRun =
  | { kind: 'scheduled'; choices: RunChoices }
  | { kind: 'manual'; choices: RunChoices; manifest?: unknown; manifestUri?: string }
  | { kind: 'fanOut'; step: FanOutStep };

/**
 * A step of a fanned-out run (AWS Step Functions, issue 18), each with the run's own event: list the run's targets,
 * plan one target (its share of the run cap), run one target (round N), or merge the targets' summaries and report.
 * Only the state machine sends these.
 */
export type FanOutStep =
  | { step: 'targets'; event: LambdaRun & { kind: 'scheduled' | 'manual' }; executionId?: string }
  | { step: 'plan'; event: LambdaRun & { kind: 'scheduled' | 'manual' }; executionId: string; target: string }
  | { step: 'target'; event: LambdaRun & { kind: 'scheduled' | 'manual' }; rawEvent: unknown; executionId: string; target: string; round: number }
  | { step: 'merge'; event: LambdaRun & { kind: 'scheduled' | 'manual' }; executionId: string; results: { target: string; error?: string }[] };

const fanOutEvent = z.strictObject({
  fanOut: z.enum(['targets', 'plan', 'target', 'merge']),
  event: z.unknown(),
  target: z.string().min(1).optional(),
  round: z.number().int().min(1).optional(),
  executionId: z.string().min(1).optional(),
  // Per target, the error that ended it, if any; what the targets did is in their ledgers (lib/run/fan-out-plan.ts).
  results: z.array(z.strictObject({ target: z.string().min(1), error: z.string().optional() })).optional(),
});

function parseFanOut(event: Record<string, unknown>): LambdaRun {
  const parsed = fanOutEvent.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`event.${issue.path.join('.') || 'fanOut'}`, `${describe(issue)} (a fan-out step, sent by the stage's state machine); nothing was done`);
  }
  const e = parsed.data;
  const inner = parseLambdaEvent(e.event ?? {});
  if (inner.kind === 'fanOut') throw new InputError('event.event', 'a fan-out step cannot carry another; nothing was done');
  if (inner.kind === 'manual' && (inner.manifest !== undefined || inner.manifestUri !== undefined)) {
    throw new InputError('event.event.manifest', 'a manifest is applied by the function itself, not fanned out; nothing was done');
  }
  if (e.fanOut === 'targets') return { kind: 'fanOut', step: { step: 'targets', event: inner, ...(e.executionId ? { executionId: e.executionId } : {}) } };
  if (e.fanOut === 'plan' || e.fanOut === 'target') {
    // The execution's id names where its targets' plans are kept: their shares of maxDeletesPerRun depend on it.
    const missing = e.target === undefined ? 'target' : e.executionId === undefined ? 'executionId' : e.fanOut === 'target' && e.round === undefined ? 'round' : undefined;
    if (missing !== undefined) throw new InputError(`event.${missing}`, `required for a ${e.fanOut} step; nothing was done`);
    if (e.fanOut === 'plan') return { kind: 'fanOut', step: { step: 'plan', event: inner, executionId: e.executionId!, target: e.target! } };
    return { kind: 'fanOut', step: { step: 'target', event: inner, rawEvent: e.event ?? {}, executionId: e.executionId!, target: e.target!, round: e.round! } };
  }
  if (e.results === undefined || e.executionId === undefined) throw new InputError(`event.${e.results === undefined ? 'results' : 'executionId'}`, 'required for a merge step; nothing was done');
  return { kind: 'fanOut', step: { step: 'merge', event: inner, executionId: e.executionId, results: e.results.map((r) => ({ target: r.target, ...(r.error !== undefined ? { error: r.error } : {}) })) } };
}

/**
 * Scheduled runs are EventBridge's scheduled envelope, or the `{"scheduled": true}` input that serverless.yml gives
 * the schedule: they run the policy as written. Anything else is a manual invocation, a dry run unless
 * `"dryRun": false`.
 */
export function parseLambdaEvent(event: unknown): LambdaRun {
  if (isScheduled(event)) return { kind: 'scheduled', choices: {} };
  if (event !== null && typeof event === 'object' && !Array.isArray(event) && 'fanOut' in event) return parseFanOut(event as Record<string, unknown>);
  if (isEnvelope(event) && !isEmptyObject((event as Record<string, unknown>).detail)) {
    // EventBridge's schedule always sends `"detail": {}`. A detail with anything in it (`{"dryRun": true}`) is a
    // hand-made envelope whose author expects the detail to be read; running the policy as written would ignore it.
    throw new InputError('event.detail', 'a scheduled-event envelope must have an empty detail ({}); for a manual run send {"dryRun"?, "targets"?, "taskIds"?, "stopFirst"?, "force"?, "manifest"?}; nothing was done');
  }
  const parsed = manualEvent.safeParse(event ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new InputError(`event.${issue.keys[0]}`, `unknown field (allowed: dryRun, targets, taskIds, stopFirst, force, manifest); nothing was done`);
    }
    const place = issue.path.length ? `event.${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[')}` : 'event';
    throw new InputError(place, `${describe(issue)}; nothing was done`);
  }
  const e = parsed.data;
  if (e.manifest !== undefined) {
    // The manifest says which tasks; the policy's limits apply as they are (no force), as with `oms-janitor apply`.
    const other = (['targets', 'taskIds', 'stopFirst', 'force'] as const).find((name) => e[name] !== undefined);
    if (other) throw new InputError(`event.${other}`, 'cannot be combined with a manifest: the manifest says which tasks; nothing was done');
    // A manifest too large for an invocation's payload is stored in the stage's archive bucket and named by its URI.
    if (typeof e.manifest === 'string') {
      if (!/^s3:\/\/[^/]+\/.+/.test(e.manifest)) throw new InputError('event.manifest', 'a string must be the s3://BUCKET/KEY of a manifest in the stage\'s archive bucket; nothing was done');
      return { kind: 'manual', choices: { dryRun: e.dryRun !== false }, manifestUri: e.manifest };
    }
    if (e.manifest === null || typeof e.manifest !== 'object' || Array.isArray(e.manifest)) {
      throw new InputError('event.manifest', 'expected the JSON object that `oms-janitor plan --out` writes, or the s3://BUCKET/KEY of one; nothing was done');
    }
    return { kind: 'manual', choices: { dryRun: e.dryRun !== false }, manifest: e.manifest };
  }
  return {
    kind: 'manual',
    choices: {
      dryRun: e.dryRun !== false,
      ...(e.targets ? { targets: e.targets } : {}),
      ...(e.taskIds ? { taskIds: e.taskIds } : {}),
      ...(e.stopFirst ? { stopFirst: true } : {}),
      ...(e.force === true ? { force: true } : e.force ? { force: typeof e.force === 'string' ? [e.force] : e.force } : {}),
    },
  };
}

/** The fields of EventBridge's scheduled-event envelope; an event with any other field is not one. */
const ENVELOPE_FIELDS = new Set(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);

/**
 * Only exactly a scheduled event counts: `{"scheduled": true}`, or the envelope with nothing added and an empty
 * (or absent) detail. An envelope with a manual field (`"dryRun": true` added to the console's test template) is
 * refused by the strict manual schema, and one with a non-empty detail by parseLambdaEvent, instead of running for
 * real as scheduled.
 */
function isScheduled(event: unknown): boolean {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  const e = event as Record<string, unknown>;
  const keys = Object.keys(e);
  if (keys.length === 1 && e.scheduled === true) return true;
  return isEnvelope(event) && keys.every((k) => ENVELOPE_FIELDS.has(k)) && (e.detail === undefined || isEmptyObject(e.detail));
}

function isEnvelope(event: unknown): boolean {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  const e = event as Record<string, unknown>;
  return e['detail-type'] === 'Scheduled Event' && e.source === 'aws.events';
}

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  return issue.message;
}
