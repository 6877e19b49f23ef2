/**
 * The retention policy file (the README's "Retention policy file") as a zod schema: strict objects everywhere so
 * that a typo (`dryrun`, `olderthan`) is an error rather than a silently ignored safety setting, and a transform
 * into the normalised `Policy` of types.ts. Messages say what was expected and what was found; load.ts adds where.
 */
import { z } from 'zod';
import { isOmsRegion, nearestOmsRegion } from '../oms/regions.js';
import { defaultEndpoint, normaliseEndpoint } from '../http/endpoint.js';
import { EXPLICIT_PURGE_RULE } from './rule-match.js';
import { ALWAYS, fieldsOfKind, progressOnlyInProgress, statusesOfKind, stopFirstForInProgress, uniqueNames, uniqueProjects } from './schema-checks.js';
import { duration, flag, glob, kind, label, positiveNumber, show, statusName, stringId, taskId, wholeNumber } from './schema-fields.js';
import type { Policy, Rule, Target } from './types.js';

/** Upper bound of `limits.maxDeletesPerRun`: a typo such as 10000000 should not pass for a deliberate setting. */
export const MAX_DELETES_PER_RUN_LIMIT = 100_000;
/** Upper bound of `requestsPerSecond`: far above OMS's gateway throttle (200/s per API), so only typos hit it. */
export const MAX_REQUESTS_PER_SECOND = 1000;

// Safe to place in a URL path as it is: no escaping needed, no way to smuggle `/` or `..`.
const PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SECRET_ID = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
const REGION = /^[a-z0-9]+(-[a-z0-9]+)*$/;
// The shipped policies hold placeholders such as 00000000000000000000000000000de1 that pass every other check; a
// deployed placeholder would list an empty (or someone else's) project run after run and report success. Real ids
// are 32 random hex characters: 16 leading zeros happen by chance once in 2^64.
const PLACEHOLDER_PROJECT_ID = /^0{16,}/;

const targetFields = z.strictObject({
  name: label,
  projectId: z
    .string()
    .regex(PROJECT_ID, { error: (i) => expected('1 to 64 letters, digits, _ or -', i.input) })
    .refine((id) => !PLACEHOLDER_PROJECT_ID.test(id), {
      error: (i) => `${show(i.input)} looks like a placeholder (all or mostly zeros): set the OMS project id of this target`,
    }),
  region: z.string().regex(REGION, { error: (i) => expected('a region such as cn-north-4', i.input) }),
  endpoint: z
    .string({ error: (i) => expected('a URL such as https://oms.cn-north-4.myhuaweicloud.com', i.input) })
    .transform((text, ctx) => {
      const result = normaliseEndpoint(text);
      if (result.ok) return result.endpoint;
      ctx.addIssue({ code: 'custom', message: result.message });
      return z.NEVER;
    })
    .optional(),
  // Another account's credentials for this target (several Huawei accounts in one policy); the other targets use the
  // run's. A Secrets Manager secret name or ARN: AWS allows letters, digits and /_+=.@- (ARNs add `:`).
  credentials: z
    .strictObject({
      secretId: z.string().regex(SECRET_ID, { error: (i) => expected('a Secrets Manager secret name or ARN (letters, digits and /_+=.@-:)', i.input) }),
    })
    .optional(),
});
const target = targetFields
  // Without an endpoint, the region decides where the credentials go: it must be one OMS is offered in.
  .superRefine((t, ctx) => {
    if (t.endpoint !== undefined || isOmsRegion(t.region)) return;
    const near = nearestOmsRegion(t.region);
    ctx.addIssue({
      code: 'custom',
      path: ['region'],
      message: `${show(t.region)} is not a region OMS is offered in${near ? ` (did you mean ${show(near)}?)` : ''}; a region not listed yet needs an explicit endpoint`,
    });
  })
  .transform((t): Target => ({ ...t, endpoint: t.endpoint ?? defaultEndpoint(t.region) }));

const ruleFields = z.strictObject({
  name: label.refine((s) => s !== EXPLICIT_PURGE_RULE, {
    error: `"${EXPLICIT_PURGE_RULE}" is reserved for explicit purges by task id`,
  }),
  kind: kind.default('task'),
  statuses: z.array(statusName, { error: (i) => expected('a list of status names', i.input) }).min(1, {
    error: 'must name at least one status',
  }),
  olderThan: duration,
  noProgressFor: duration.optional(),
  keepLatest: wholeNumber(0).default(0),
  // Which patterns go with which kind is checked across the rule (schema-checks.ts `fieldsOfKind`).
  namePattern: glob.optional(),
  descriptionPattern: glob.optional(),
  sourceBucketPattern: glob.optional(),
  destinationBucketPattern: glob.optional(),
  stopFirst: flag.default(false),
});
const PATTERNS = ['namePattern', 'descriptionPattern', 'sourceBucketPattern', 'destinationBucketPattern'] as const;
const rule = ruleFields.transform(
  (r): Rule => ({
    name: r.name,
    kind: r.kind,
    statuses: [...new Set(r.statuses)],
    olderThan: r.olderThan.text,
    olderThanMs: r.olderThan.ms,
    ...(r.noProgressFor ? { noProgressFor: r.noProgressFor.text, noProgressForMs: r.noProgressFor.ms } : {}),
    keepLatest: r.keepLatest,
    ...Object.fromEntries(PATTERNS.flatMap((field) => (r[field] === undefined ? [] : [[field, r[field]]]))),
    stopFirst: r.stopFirst,
  }),
);

const protectFields = z.strictObject({
  names: z.array(glob).default([]),
  taskIds: z.array(taskId).default([]),
  groupTasks: flag.default(true),
  taskGroupIds: z.array(stringId).default([]),
  syncTaskIds: z.array(stringId).default([]),
  descriptions: z.array(glob).default([]),
  buckets: z.array(glob).default([]),
});

const limitsFields = z.strictObject({
  maxDeletesPerRun: wholeNumber(1, MAX_DELETES_PER_RUN_LIMIT).default(1000),
  // 0 is refused: it would refuse every target with anything to delete, which `dryRun: true` says plainly.
  maxDeletePercent: positiveNumber(100, ' (to never delete, use dryRun: true)').default(100),
  // maxDeletePercent is judged only above this many selected items of a kind: 1 of 1 sync task is 100%.
  percentFloor: wholeNumber(0, MAX_DELETES_PER_RUN_LIMIT).default(20),
  stopTimeout: duration.default({ text: '10m', ms: 600_000 }),
});
const limits = limitsFields.transform((l) => ({
  maxDeletesPerRun: l.maxDeletesPerRun,
  maxDeletePercent: l.maxDeletePercent,
  percentFloor: l.percentFloor,
  stopTimeoutMs: l.stopTimeout.ms,
}));

const policyFields = z.strictObject({
  version: z.literal(1, { error: (i) => expected('1', i.input) }),
  targets: z
    .array(target)
    .min(1, { error: 'must list at least one target' })
    .superRefine(uniqueNames('targets'), ALWAYS)
    .superRefine(uniqueProjects, ALWAYS),
  rules: z
    .array(rule)
    .min(1, { error: 'must list at least one rule' })
    .superRefine(uniqueNames('rules'), ALWAYS)
    .superRefine(statusesOfKind, ALWAYS)
    .superRefine(fieldsOfKind, ALWAYS)
    .superRefine(stopFirstForInProgress, ALWAYS)
    .superRefine(progressOnlyInProgress, ALWAYS),
  protect: protectFields.prefault({}),
  limits: limits.prefault({}),
  concurrency: wholeNumber(1, 64).default(8),
  requestsPerSecond: positiveNumber(MAX_REQUESTS_PER_SECOND).optional(),
  dryRun: flag.default(false),
});

/** The whole file, validated and normalised into a `Policy`. */
export const policySchema = policyFields.transform(
  (p): Policy => ({
    version: p.version,
    targets: p.targets,
    rules: p.rules,
    protect: p.protect,
    limits: p.limits,
    concurrency: p.concurrency,
    ...(p.requestsPerSecond === undefined ? {} : { requestsPerSecond: p.requestsPerSecond }),
    dryRun: p.dryRun,
  }),
);

/** Every field name the policy file knows, for "did you mean" hints on unknown fields. */
export const POLICY_FIELD_NAMES: readonly string[] = [
  ...new Set(
    [policyFields, targetFields, ruleFields, protectFields, limitsFields].flatMap((o) => Object.keys(o.shape)),
  ),
];

function expected(what: string, input: unknown): string {
  return input === undefined ? 'required' : `expected ${what}, got ${show(input)}`;
}
