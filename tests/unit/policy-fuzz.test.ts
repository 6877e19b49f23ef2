/**
 * Policy fuzzing (issue 9). Valid policies (the shipped ones with real-looking project ids, and richer ones) are
 * mutated at random, as data and as text. Loading must either succeed with a policy that re-validates to itself and
 * has none of the faults the spec forbids, or fail with a `PolicyError` whose message names the field or the line;
 * never another exception, never a hang. Then the real CLI against the emulator for some refused policies: exit 2,
 * the field on stderr, and not a single request to OMS.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { Emulator } from '../../emulator/index.js';
import { parsePolicy, PolicyError } from '../../lib/policy/load.js';
import { policySchema } from '../../lib/policy/schema.js';
import type { Policy } from '../../lib/policy/types.js';
import { DAY, PROJECT, TOKEN, deletedIds, emulator, runCli, task } from '../helpers/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE = 'fuzz.yaml';
/** Far above what any input here needs (a few ms): only a hang or a blow-up reaches it. */
const PARSE_BUDGET_MS = 2000;
const DATA_RUNS = 250;
const TEXT_RUNS = 250;

// ---------------------------------------------------------------------------------------------------------------
// Valid starting points

// Real project ids are 32 hex characters; the shipped files hold all-zero placeholders that the loader refuses.
const PROJECT_IDS = [
  '4f1c9e2a7b3d4c58a6e0f91b2d7c3a64',
  '9b2e47d1c0a34f6e8d5b1a7c3e9f2d08',
  'e3a90c5f1b7d42e6a8c4f0d2b6e19a73',
  '0c7d3e9a5f1b4d28b6e2a0c8f4d19e57',
];

function withRealIds(text: string): string {
  let next = 0;
  return text.replace(/\b0{16,}[0-9a-f]*\b/g, () => PROJECT_IDS[next++ % PROJECT_IDS.length] as string);
}

const SHIPPED = readdirSync(join(ROOT, 'policies'))
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .map((file) => ({ name: `policies/${file}`, text: withRealIds(readFileSync(join(ROOT, 'policies', file), 'utf8')) }));

/** The spec's example, every field written out. */
const SPEC_EXAMPLE = `version: 1
targets:                        # OMS projects to clean
  - name: beijing4              # unique label used in logs and the summary
    projectId: 2c0689c860ad4728a497c91ec0844383
    region: cn-north-4
  - name: shanghai1
    projectId: ${PROJECT_IDS[0]}
    region: cn-east-3
    endpoint: https://oms.cn-east-3.myhuaweicloud.com
rules:
  - name: succeeded-after-7d
    statuses: [succeeded]
    olderThan: 7d
    keepLatest: 10
  - name: failed-after-30d
    statuses: [failed]
    olderThan: 30d
  - name: stale-paused
    statuses: [paused]
    olderThan: 14d
    namePattern: "nightly-*"
  - name: stuck-migrating
    statuses: [migrating, retrying]
    olderThan: 2d
    stopFirst: true
protect:
  names: ["keep-*"]
  taskIds: ["191297407830872"]
  groupTasks: true
limits:
  maxDeletesPerRun: 1000
  maxDeletePercent: 100
  stopTimeout: 10m
concurrency: 8
requestsPerSecond: 20
dryRun: false
`;

/** Anchors, aliases, flow style, quoted keys, a bare-number task id and unicode: all valid. */
const YAML_FEATURES = `"version": 1
targets:
  - {name: "北京四", projectId: ${PROJECT_IDS[1]}, region: cn-north-4, endpoint: "http://127.0.0.1:8790/"}
rules:
  - name: failed-month
    statuses: &failedOnly [failed]
    olderThan: &month 30d
  - {name: "paused 😀", statuses: [paused, paused], olderThan: *month, namePattern: "*?-é", keepLatest: 0}
  - name: waiting-too-long
    statuses: [waiting, pausing]
    olderThan: 2w
    stopFirst: !!bool true
protect: {names: [], taskIds: [42, "0042", "9223372036854775807"], groupTasks: false}
limits: {maxDeletePercent: 12.5}
requestsPerSecond: 0.5
`;

const JSON_POLICY = JSON.stringify({
  version: 1,
  targets: [{ name: 't', projectId: PROJECT_IDS[2], region: 'ap-southeast-1' }],
  rules: [{ name: 'r', statuses: ['succeeded', 'failed'], olderThan: '90m', keepLatest: 3 }],
  limits: { maxDeletesPerRun: 100000, stopTimeout: '1h' },
  concurrency: 64,
  dryRun: true,
});

const BASES = [...SHIPPED, { name: 'spec example', text: SPEC_EXAMPLE }, { name: 'YAML features', text: YAML_FEATURES }, { name: 'JSON', text: JSON_POLICY }];

// ---------------------------------------------------------------------------------------------------------------
// What the spec says a policy file may hold

const FIELDS = {
  root: ['version', 'targets', 'rules', 'protect', 'limits', 'concurrency', 'requestsPerSecond', 'dryRun'],
  target: ['name', 'projectId', 'region', 'endpoint'],
  rule: ['name', 'statuses', 'olderThan', 'keepLatest', 'namePattern', 'stopFirst'],
  protect: ['names', 'taskIds', 'groupTasks'],
  limits: ['maxDeletesPerRun', 'maxDeletePercent', 'stopTimeout'],
} as const;
// Fields the spec's "Additions under way" introduce: never generated as unknown keys (they may be known by the time
// this runs), and accepted when present.
const UNDER_WAY = {
  root: [],
  target: ['credentials'],
  rule: ['kind', 'descriptionPattern', 'sourceBucketPattern', 'destinationBucketPattern'],
  protect: ['taskGroupIds', 'syncTaskIds', 'descriptions', 'buckets'],
  limits: [],
} as const;
type Place = keyof typeof FIELDS;
const ALL_FIELDS = new Set<string>([...Object.values(FIELDS).flat(), ...Object.values(UNDER_WAY).flat()]);
const REQUIRED = { root: ['version', 'targets', 'rules'], target: ['name', 'projectId', 'region'], rule: ['name', 'statuses', 'olderThan'], protect: [], limits: [] } as const;
const IN_PROGRESS = ['waiting', 'migrating', 'retrying', 'pausing'];

type Path = (string | number)[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Which kind of policy object sits at `path` in `root`, if it is one of the policy's mappings. */
function placeOf(root: unknown, path: Path): Place | undefined {
  const at = getAt(root, path);
  if (!isRecord(at)) return undefined;
  const [first, second] = path;
  if (path.length === 0) return 'root';
  if (path.length === 1 && (first === 'protect' || first === 'limits')) return first;
  if (path.length === 2 && typeof second === 'number' && Array.isArray(getAt(root, [first as string]))) {
    if (first === 'targets') return 'target';
    if (first === 'rules') return 'rule';
  }
  return undefined;
}

/**
 * Faults the spec forbids that can be seen in the file itself: unknown fields anywhere, required fields missing,
 * an in-progress status without stopFirst. A policy the loader accepts must have none.
 */
function specFaults(data: unknown): string[] {
  const faults: string[] = [];
  const check = (path: Path, place: Place) => {
    const value = getAt(data, path);
    if (!isRecord(value)) return;
    const allowed = new Set<string>([...FIELDS[place], ...UNDER_WAY[place]]);
    for (const key of Object.keys(value)) if (!allowed.has(key)) faults.push(`unknown field ${fieldPath([...path, key])}`);
    for (const key of REQUIRED[place]) if (!Object.hasOwn(value, key)) faults.push(`missing ${fieldPath([...path, key])}`);
  };
  check([], 'root');
  check(['protect'], 'protect');
  check(['limits'], 'limits');
  const root = isRecord(data) ? data : {};
  (Array.isArray(root.targets) ? root.targets : []).forEach((_, i) => check(['targets', i], 'target'));
  (Array.isArray(root.rules) ? root.rules : []).forEach((rule, i) => {
    check(['rules', i], 'rule');
    const r = isRecord(rule) ? rule : {};
    if (Array.isArray(r.statuses) && r.statuses.some((s) => IN_PROGRESS.includes(s as string)) && r.stopFirst !== true) {
      faults.push(`rules[${i}] names an in-progress status without stopFirst: true`);
    }
  });
  return faults;
}

/** A field as the project writes it in messages and docs: `rules[1].olderThan`, odd keys quoted: `[" x"]`. */
function fieldPath(path: Path): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) text += text === '' ? key : `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// Data mutations: on the parsed file, then written back as YAML or JSON

function getAt(root: unknown, path: Path): unknown {
  let value = root;
  for (const key of path) {
    if (Array.isArray(value) && typeof key === 'number') value = value[key];
    else if (isRecord(value) && typeof key === 'string' && Object.hasOwn(value, key)) value = value[key];
    else return undefined;
  }
  return value;
}

/** Own-property copy: `__proto__` stays a plain key, as the YAML reader makes it. */
function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (!isRecord(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setKey(copy, key, clone(value[key]));
  return copy;
}

function setKey(record: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

function nodes(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => nodes(v, [...path, i], out));
  else if (isRecord(value)) for (const key of Object.keys(value)) nodes(value[key], [...path, key], out);
  return out;
}

const TYPOS: ((key: string) => string)[] = [
  (k) => k.toLowerCase(),
  (k) => k.toUpperCase(),
  (k) => k.charAt(0).toUpperCase() + k.slice(1),
  (k) => k.slice(0, -1),
  (k) => (k.length > 2 ? k.slice(0, 1) + k.slice(2) : `${k}x`),
  (k) => (k.length > 2 ? k.slice(0, 1) + k.charAt(2) + k.charAt(1) + k.slice(3) : `x${k}`),
  (k) => `${k}s`,
  (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
  (k) => `${k} `,
  (k) => k.replace('e', 'е'), // a Cyrillic e
];

const BAD_VALUES: unknown[] = [
  null, '', ' ', 'x', '7x', '-1d', '0d', '1.5d', '7D', '7 d', '7d ', '1s', '1y', '999999999999999w', '9999999999999999d',
  0, -1, 1.5, 65, 101, 100_001, 2 ** 53, 1e21, Number.NaN, Number.POSITIVE_INFINITY, true, false, 'true', 'no',
  [], [[]], [[['failed']]], {}, { a: 1 }, 'failed', 'migrating', ['migrating'], ['bogus'], 'keep-*', '*', '😀',
  'ｆａｉｌｅｄ', 'a\u0000b', 'task-id', 'http://example.com', 'https://oms.cn-north-4.myhuaweicloud.com/v2',
  'http://127.0.0.1:8790', '0'.repeat(32), '2c0689c860ad4728a497c91ec0844383', 'cn-north-4', '191297407830872',
  '\u202egnp.exe', 'é'.repeat(150),
];
/** Values that are valid somewhere, so that some mutations are accepted and the accepted path is tested too. */
const PLAUSIBLE_VALUES: unknown[] = [1, 7, 10, 64, 100, '7d', '10m', '2w', 'succeeded', ['succeeded'], ['paused', 'failed'], 'keep-*', ['keep-*'], false, 'beijing-9', '42'];

const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...BAD_VALUES) },
  { weight: 3, arbitrary: fc.constantFrom(...PLAUSIBLE_VALUES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }) },
);

/** An unknown key: a typo of a known field, an odd string, or one that tries the prototype. */
const unknownKey = fc.oneof(
  fc.tuple(fc.constantFrom(...Object.values(FIELDS).flat()), fc.nat(TYPOS.length - 1)).map(([k, t]) => (TYPOS[t] as (key: string) => string)(k)),
  fc.stringMatching(/^[a-z][A-Za-z0-9_]{0,10}$/),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' ', '<<', 'dry-run', '0'),
);

type DataOp =
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'wrap'; at: number; depth: number }
  | { op: 'addKey'; at: number; key: string; value: unknown }
  | { op: 'renameKey'; at: number; typo: number }
  | { op: 'duplicateItem'; at: number };

const dataOp: fc.Arbitrary<DataOp> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value }),
  fc.record({ op: fc.constant('wrap' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('addKey' as const), at: fc.nat(), key: unknownKey, value }),
  fc.record({ op: fc.constant('renameKey' as const), at: fc.nat(), typo: fc.nat(TYPOS.length - 1) }),
  fc.record({ op: fc.constant('duplicateItem' as const), at: fc.nat() }),
);

interface Mutated {
  data: unknown;
  /** Where the mutations were: a refusal must name a field in the same section of the file. */
  touched: Path[];
  /** Unknown keys added or made by renaming: a refusal must name each exactly while it is still in the file. */
  unknown: Path[];
}

function pick<T>(items: readonly T[], at: number): T | undefined {
  return items.length === 0 ? undefined : items[at % items.length];
}

function applyDataOp(root: unknown, op: DataOp, out: Mutated): void {
  const all = nodes(root).filter((p) => p.length > 0);
  if (op.op === 'addKey') {
    const target = pick(nodes(root).filter((p) => isRecord(getAt(root, p))), op.at);
    const record = target === undefined ? undefined : getAt(root, target);
    if (target === undefined || !isRecord(record) || ALL_FIELDS.has(op.key) || Object.hasOwn(record, op.key)) return;
    setKey(record, op.key, op.value);
    out.touched.push([...target, op.key]);
    out.unknown.push([...target, op.key]);
    return;
  }
  if (op.op === 'duplicateItem') {
    const target = pick(nodes(root).filter((p) => Array.isArray(getAt(root, p)) && (getAt(root, p) as unknown[]).length > 0), op.at);
    if (target === undefined) return;
    const list = getAt(root, target) as unknown[];
    list.push(clone(list[op.at % list.length]));
    out.touched.push(target);
    return;
  }
  const path = pick(op.op === 'renameKey' ? all.filter((p) => typeof p.at(-1) === 'string') : all, op.at);
  if (path === undefined) return;
  const parent = getAt(root, path.slice(0, -1));
  const key = path.at(-1) as string | number;
  const current = getAt(root, path);
  const put = (v: unknown) => (Array.isArray(parent) ? (parent[key as number] = v) : setKey(parent as Record<string, unknown>, key as string, v));
  out.touched.push(path);
  if (op.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete (parent as Record<string, unknown>)[key as string];
  } else if (op.op === 'replace') put(clone(op.value));
  else if (op.op === 'wrap') {
    let wrapped = current;
    for (let i = 0; i < op.depth; i += 1) wrapped = [wrapped];
    put(wrapped);
  } else {
    const record = parent as Record<string, unknown>;
    const renamed = (TYPOS[op.typo] as (k: string) => string)(key as string);
    if (renamed === key || Object.hasOwn(record, renamed)) return;
    // Rebuilt in order, so that the renamed key stays where it was written.
    const entries = Object.keys(record).map((k) => [k === key ? renamed : k, record[k]] as const);
    for (const k of Object.keys(record)) delete record[k];
    for (const [k, v] of entries) setKey(record, k, v);
    const renamedPath = [...path.slice(0, -1), renamed];
    out.touched.push(renamedPath);
    if (!ALL_FIELDS.has(renamed)) out.unknown.push(renamedPath);
  }
}

const serialisation = fc.constantFrom('yaml', 'json', 'json-pretty');

function serialise(data: unknown, how: string): string {
  if (how === 'yaml') return toYaml(data);
  return how === 'json' ? JSON.stringify(data) : JSON.stringify(data, null, 2);
}

const BASE_DATA: unknown[] = BASES.map((base) => parseYaml(base.text));

const dataMutation = fc.record({
  base: fc.nat(BASES.length - 1),
  ops: fc.array(dataOp, { minLength: 1, maxLength: 3 }),
  how: serialisation,
});

function mutateData({ base, ops, how }: { base: number; ops: DataOp[]; how: string }): { text: string; mutated: Mutated } {
  const data = clone(BASE_DATA[base]);
  const mutated: Mutated = { data, touched: [], unknown: [] };
  for (const op of ops) applyDataOp(data, op, mutated);
  return { text: serialise(data, how), mutated };
}

// ---------------------------------------------------------------------------------------------------------------
// Text mutations: on the file as written

const BILLION_LAUGHS = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)].join('\n');

const SNIPPETS = [
  ':', ': ', '- ', '{', '}', '[', ']', ',', '&a ', '*a', '!!binary ', '!!timestamp ', '!x ', '? ', '\t', '#', '"', "'",
  '|', '>', '@', '`', '%', '\\', '\u0000', '\uFEFF', '😀', '\n', '\n  ', ' ', '---\n', '...\n', '<<: ',
];
const APPENDED = [
  'extra: 1\n', 'dryrun: true\n', 'dryRun: true\ndryRun: false\n', 'rules: []\n', '---\nversion: 1\n', '...\n', '%YAML 1.2\n',
  '<<: {dryRun: true}\n', '"dryRun": true\n', '# only a comment\n', 'null: 1\n', '~: 1\n', '1: 1\n',
  'true: x\n', `x: ${'['.repeat(50)}${']'.repeat(50)}\n`, 'a: &x 1\nb: *x\n', 'c: *undefinedAlias\n',
  'protect: !!set {keep-*}\n', 'concurrency: !!str 8\n',
];
const NOT_YAML = [
  '', '   ', '\n\n', '<html><body>502 Bad Gateway</body></html>', '{"version": 1,', 'version = 1\n[targets]\n', '[]', '42',
  '"just a string"', 'null', '~', 'PK\u0003\u0004\u0014\u0000', '\u0000\u0001\u0002', '- 1\n- 2\n', 'version: 1\n\tx: 2\n',
];
const TAGS = ['!!str', '!!int', '!!float', '!!bool', '!!null', '!!binary', '!!timestamp', '!!map', '!!seq', '!!set', '!!omap', '!custom', '!<tag:yaml.org,2002:str>'];

type TextOp =
  | { op: 'dupLine' | 'dropLine' | 'truncate'; at: number }
  | { op: 'dupKey'; at: number; value: string }
  | { op: 'insert'; at: number; text: string }
  | { op: 'tag'; at: number; tag: string }
  | { op: 'anchor'; from: number; to: number }
  | { op: 'indent'; at: number; indent: string }
  | { op: 'append' | 'replaceAll'; text: string };

const textOp: fc.Arbitrary<TextOp> = fc.oneof(
  fc.record({ op: fc.constantFrom('dupLine' as const, 'dropLine' as const, 'truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('dupKey' as const), at: fc.nat(), value: fc.constantFrom('0', 'true', '7d', '[]', '"x"', '') }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...SNIPPETS), fc.string({ unit: 'binary', maxLength: 6 })) }),
  fc.record({ op: fc.constant('tag' as const), at: fc.nat(), tag: fc.constantFrom(...TAGS) }),
  fc.record({ op: fc.constant('anchor' as const), from: fc.nat(), to: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), at: fc.nat(), indent: fc.constantFrom('', ' ', '\t', '      ', '  \t') }),
  fc.record({ op: fc.constant('append' as const), text: fc.constantFrom(...APPENDED) }),
  fc.record({ op: fc.constant('replaceAll' as const), text: fc.oneof(fc.constantFrom(...NOT_YAML), fc.string({ unit: 'binary', maxLength: 80 })) }),
);

const KEY_VALUE_LINE = /^(\s*(?:- )?)([A-Za-z"][^:#]*):[ ]+(\S.*)$/;

function applyTextOp(text: string, op: TextOp): string {
  const lines = text.split('\n');
  const keyLines = lines.map((line, i) => (KEY_VALUE_LINE.test(line) ? i : -1)).filter((i) => i >= 0);
  switch (op.op) {
    case 'dupLine':
    case 'dropLine': {
      const i = op.at % lines.length;
      lines.splice(i, op.op === 'dropLine' ? 1 : 0, ...(op.op === 'dupLine' ? [lines[i] as string] : []));
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, op.at % (text.length + 1));
    case 'dupKey': {
      const i = pick(keyLines, op.at);
      if (i === undefined) return text;
      const [, indent = '', key = ''] = KEY_VALUE_LINE.exec(lines[i] as string) ?? [];
      lines.splice(i + 1, 0, `${indent.replace('- ', '  ')}${key}: ${op.value}`);
      return lines.join('\n');
    }
    case 'insert': {
      const at = op.at % (text.length + 1);
      return text.slice(0, at) + op.text + text.slice(at);
    }
    case 'tag':
    case 'indent': {
      const i = pick(keyLines, op.at);
      if (i === undefined) return text;
      const [, indent = '', key = '', rest = ''] = KEY_VALUE_LINE.exec(lines[i] as string) ?? [];
      lines[i] = op.op === 'tag' ? `${indent}${key}: ${op.tag} ${rest}` : `${op.indent}${(lines[i] as string).trimStart()}`;
      return lines.join('\n');
    }
    case 'anchor': {
      // One value gets an anchor, a later one becomes an alias of it: valid YAML, the value may not fit its new
      // place. (An alias before its anchor is refused without a line: the it.failing case below.)
      const a = pick(keyLines, op.from);
      const b = pick(keyLines, op.to);
      if (a === undefined || b === undefined || a === b) return text;
      const [from, to] = a < b ? [a, b] : [b, a];
      const [, fIndent = '', fKey = '', fRest = ''] = KEY_VALUE_LINE.exec(lines[from] as string) ?? [];
      const [, tIndent = '', tKey = ''] = KEY_VALUE_LINE.exec(lines[to] as string) ?? [];
      lines[from] = `${fIndent}${fKey}: &fz ${fRest}`;
      lines[to] = `${tIndent}${tKey}: *fz`;
      return lines.join('\n');
    }
    case 'append':
      return text.endsWith('\n') ? text + op.text : `${text}\n${op.text}`;
    case 'replaceAll':
      return op.text;
  }
}

const textMutation = fc.record({ base: fc.nat(BASES.length - 1), ops: fc.array(textOp, { minLength: 1, maxLength: 3 }) });

function mutateText({ base, ops }: { base: number; ops: TextOp[] }): string {
  return ops.reduce(applyTextOp, (BASES[base] as { text: string }).text);
}

// ---------------------------------------------------------------------------------------------------------------
// The property

/** Problems of the whole file, which have no field and no line to give (the file itself is named). */
const WHOLE_FILE = [/^the policy file is empty$/, /^expected a mapping, got /, /^YAML error: Excessive alias count/];

type Outcome = { accepted: Policy } | { refused: PolicyError };

/** Loads `text`; anything but a Policy or a PolicyError, or a slow answer, fails the test. */
function load(text: string): Outcome {
  const started = performance.now();
  let outcome: Outcome;
  try {
    outcome = { accepted: parsePolicy(text, SOURCE) };
  } catch (error) {
    if (!(error instanceof PolicyError)) throw new Error(`not a PolicyError: ${String(error)}`, { cause: error });
    outcome = { refused: error };
  }
  expect(performance.now() - started).toBeLessThan(PARSE_BUDGET_MS);
  return outcome;
}

/** Every issue of a refusal is named in the message by its field, or placed on a line, or is about the whole file. */
function expectNamedIssues(error: PolicyError): void {
  expect(error.name).toBe('PolicyError');
  expect(error.source).toBe(SOURCE);
  expect(error.issues.length).toBeGreaterThan(0);
  expect(error.message.startsWith(`invalid policy ${SOURCE}, `)).toBe(true);
  for (const issue of error.issues) {
    const named = issue.path !== '' && error.message.includes(`  - ${issue.path}: ${issue.message}`);
    const placed =
      (issue.line !== undefined && error.message.includes(`${issue.message} (line ${issue.line})`)) ||
      (/ at line \d+, column \d+: /.test(issue.message) && error.message.includes(issue.message));
    const wholeFile = issue.path === '' && WHOLE_FILE.some((pattern) => pattern.test(issue.message));
    if (!(named || placed || wholeFile)) throw new Error(`issue neither named nor placed: ${JSON.stringify(issue)}\n${error.message}`);
  }
}

/** The loaded policy written back as a file (olderThan and stopTimeout as text): it must validate to the same policy. */
function asFile(policy: Policy): unknown {
  const { limits, rules, ...rest } = policy;
  const { stopTimeoutMs, ...otherLimits } = limits;
  return {
    ...rest,
    rules: rules.map(({ olderThanMs: _derived, ...rule }) => rule),
    limits: { ...otherLimits, stopTimeout: `${stopTimeoutMs / 60_000}m` },
  };
}

function expectSoundPolicy(policy: Policy, text: string): void {
  expect(policySchema.parse(asFile(policy))).toEqual(policy);
  // What the file says, read without the product's schema: none of the faults the spec forbids.
  expect(specFaults(parseYaml(text, { intAsBigInt: true, maxAliasCount: 100, logLevel: 'error' }))).toEqual([]);
}

/** Top-level section of a field path (`rules` of `rules[1].olderThan`, `"x"` of `["x"].y`). */
function section(path: string): string {
  return /^(\[[^\]]*\]|[^.[]*)/.exec(path)?.[1] ?? '';
}

describe('policy fuzzing: load either succeeds or names the problem', () => {
  it('loads every starting point as it is', () => {
    expect(BASES.length).toBeGreaterThanOrEqual(7);
    for (const base of BASES) expect(() => parsePolicy(base.text, base.name)).not.toThrow();
  });

  const counts = { data: { accepted: 0, refused: 0 }, text: { accepted: 0, refused: 0 } };
  let exactlyNamed = 0;

  it('data mutations (deleted fields, wrong types, out-of-range and odd values, unknown and misspelt keys, nested lists, duplicated items)', () => {
    fc.assert(
      fc.property(dataMutation, (input) => {
        const { text, mutated } = mutateData(input);
        const outcome = load(text);
        if ('accepted' in outcome) {
          counts.data.accepted += 1;
          expectSoundPolicy(outcome.accepted, text);
          return;
        }
        counts.data.refused += 1;
        const error = outcome.refused;
        expectNamedIssues(error);
        const paths = error.issues.map((issue) => issue.path);
        // An unknown key still in a policy mapping is named exactly.
        for (const path of mutated.unknown) {
          const key = path.at(-1) as string;
          if (placeOf(mutated.data, path.slice(0, -1)) !== undefined && Object.hasOwn(getAt(mutated.data, path.slice(0, -1)) as object, key)) {
            expect(paths).toContain(fieldPath(path));
            exactlyNamed += 1;
          }
        }
        // Some issue is in a section of the file that was changed (a mutation may undo or hide another).
        const sections = new Set(mutated.touched.map((path) => section(fieldPath(path))));
        expect(paths.some((path) => sections.has(section(path)))).toBe(true);
      }),
      { seed: 0x70f1c1, numRuns: DATA_RUNS },
    );
    // Both outcomes came up often: the property was not vacuous on either side.
    expect(counts.data.refused).toBeGreaterThan(DATA_RUNS / 2);
    expect(counts.data.accepted).toBeGreaterThan(DATA_RUNS / 20);
    expect(exactlyNamed).toBeGreaterThan(DATA_RUNS / 10);
  });

  it('text mutations (duplicate keys, lost lines, stray characters, tags, anchors and aliases, tabs, cut files, other documents, text that is not YAML)', () => {
    fc.assert(
      fc.property(textMutation, (input) => {
        const text = mutateText(input);
        const outcome = load(text);
        if ('accepted' in outcome) {
          counts.text.accepted += 1;
          expectSoundPolicy(outcome.accepted, text);
        } else {
          counts.text.refused += 1;
          expectNamedIssues(outcome.refused);
        }
      }),
      { seed: 0x70f1c2, numRuns: TEXT_RUNS },
    );
    expect(counts.text.refused).toBeGreaterThan(TEXT_RUNS / 2);
    expect(counts.text.accepted).toBeGreaterThan(TEXT_RUNS / 20);
  });

  // Costly inputs (tens of ms each), so tried once here rather than hundreds of times in the random pool above.
  it.each([
    ['an alias bomb', `${BILLION_LAUGHS}\n`],
    ['lists nested 2000 deep', `x: ${'['.repeat(2000)}${']'.repeat(2000)}\n`],
    ['mappings nested 2000 deep', `x: ${'{a: '.repeat(2000)}1${'}'.repeat(2000)}\n`],
    ['a 200 KB string', `concurrency: "${'8'.repeat(200_000)}"\n`],
  ])('refuses %s quickly, naming the problem', (_what, appended) => {
    const outcome = load(`${SPEC_EXAMPLE}${appended}`);
    expect('refused' in outcome).toBe(true);
    if ('refused' in outcome) expectNamedIssues(outcome.refused);
  });

  it('refuses a duplicated key with its line, never letting the last one win', () => {
    const text = SPEC_EXAMPLE.replace('concurrency: 8\n', 'concurrency: 8\nconcurrency: 64\n');
    const outcome = load(text);
    expect('refused' in outcome && outcome.refused.message).toMatch(/line \d+, column \d+: Map keys must be unique/);
  });

  // Found while fuzzing: a key that YAML reads as null, a number or a boolean is an unknown field like any other, but
  // the line lookup searched the document by the stringified key and found none. It is now placed on its line (its
  // name is the property name the data has: `[""]` for `null:` and `~:`, `["1"]`, `true`).
  it.each(['null', '~', '1', 'true'])('places an unknown key written %s on its line', (key) => {
    const text = SPEC_EXAMPLE.replace('concurrency: 8\n', `concurrency: 8\n${key}: 1\n`);
    const line = text.split('\n').indexOf(`${key}: 1`) + 1;
    const outcome = load(text);
    const issues = 'refused' in outcome ? outcome.refused.issues : [];
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line, message: 'unknown field' });
  });

  // Found by the fuzzing: an alias whose anchor is not set before it (a typo, or lines moved) was reported with no
  // line and no field. It now gives the alias's line and column, as every other YAML problem does.
  it('places an alias without an anchor on its line', () => {
    const outcome = load('version: 1\ntargets: *nope\n');
    const issues = 'refused' in outcome ? outcome.refused.issues : [];
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue.path === 'targets' || / at line 2, column \d+: /.test(issue.message) || issue.line === 2).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// End to end: the real CLI (its in-process entry, and the compiled bin for a few) against the emulator

/** A policy file as plain data, changed in place by a case. */
type PolicyData = Record<string, any>;

interface E2eCase {
  what: string;
  change: (policy: PolicyData) => void;
  /** The field the refusal must name. */
  field: string;
  how: string;
}

const DURATIONS_BAD = ['7x', '-1d', '1.5d', '7 d', '7D', '1s', '', 30];

/** Changes that make a policy invalid by the spec's words alone, each with the field a refusal must name. */
const BAD_FIELDS: { path: Path; values: unknown[]; item?: boolean }[] = [
  { path: ['version'], values: [2, '1', 0, null] },
  { path: ['concurrency'], values: [0, 65, 1.5, '8', true] },
  { path: ['dryRun'], values: ['false', 'true', 0, 'no'] },
  { path: ['requestsPerSecond'], values: ['fast', -1, true] },
  { path: ['targets'], values: [{}, 'main'] },
  { path: ['rules'], values: [{}, 'x'] },
  { path: ['targets', 0, 'name'], values: [null, [], {}] },
  { path: ['targets', 0, 'projectId'], values: [true, [], {}, null] },
  { path: ['rules', 0, 'olderThan'], values: [...DURATIONS_BAD, null] },
  { path: ['rules', 1, 'olderThan'], values: DURATIONS_BAD },
  { path: ['limits', 'stopTimeout'], values: DURATIONS_BAD },
  { path: ['rules', 0, 'statuses'], values: [[], 'failed'] },
  { path: ['rules', 0, 'statuses'], values: [['bogus'], ['Failed'], [4]], item: true },
  { path: ['rules', 0, 'keepLatest'], values: [-1, 1.5, '10', true] },
  { path: ['rules', 1, 'stopFirst'], values: ['true', 1] },
  { path: ['rules', 0, 'namePattern'], values: [5, [], {}] },
  { path: ['protect', 'taskIds'], values: [['12a'], ['12345678901234567890'], [1.5], ['-1']], item: true },
  { path: ['protect', 'groupTasks'], values: ['false', 0] },
  { path: ['protect', 'names'], values: ['keep-*'] },
  { path: ['protect', 'names'], values: [[5], [[]]], item: true },
  { path: ['limits', 'maxDeletesPerRun'], values: ['1000', -1, 1.5, true] },
  { path: ['limits', 'maxDeletePercent'], values: ['50%', true, -5] },
];
const REQUIRED_PATHS: Path[] = [['version'], ['targets'], ['rules'], ['targets', 0, 'name'], ['targets', 0, 'projectId'], ['rules', 0, 'name'], ['rules', 1, 'statuses'], ['rules', 0, 'olderThan']];
const KEY_SITES: { path: Path; place: Place }[] = [
  { path: [], place: 'root' },
  { path: ['targets', 0], place: 'target' },
  { path: ['rules', 0], place: 'rule' },
  { path: ['rules', 1], place: 'rule' },
  { path: ['protect'], place: 'protect' },
  { path: ['limits'], place: 'limits' },
];

function setPath(root: PolicyData, path: Path, v: unknown): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string, unknown> | unknown[];
  if (Array.isArray(parent)) parent[path.at(-1) as number] = v;
  else setKey(parent, path.at(-1) as string, v);
}

const BAD_VALUE_CASES = BAD_FIELDS.flatMap((entry) => entry.values.map((bad) => ({ entry, bad })));

const e2eCase: fc.Arbitrary<E2eCase> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(fc.constantFrom(...BAD_VALUE_CASES), serialisation).map(([{ entry, bad }, how]) => ({
      what: `${fieldPath(entry.path)} = ${JSON.stringify(bad)}`,
      change: (p: PolicyData) => setPath(p, entry.path, clone(bad)),
      field: fieldPath(entry.item === true ? [...entry.path, 0] : entry.path),
      how,
    })),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(...REQUIRED_PATHS), serialisation).map(([path, how]) => ({
      what: `no ${fieldPath(path)}`,
      change: (p: PolicyData) => {
        delete (getAt(p, path.slice(0, -1)) as Record<string, unknown>)[path.at(-1) as string];
      },
      field: fieldPath(path),
      how,
    })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...KEY_SITES), fc.constantFrom(...Object.values(FIELDS).flat()), fc.constantFrom(...TYPOS), serialisation)
      .map(([site, known, typo, how]) => {
        let key = typo(known);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || ALL_FIELDS.has(key)) key = `${known.toLowerCase()}X`;
        const field = fieldPath([...site.path, key]);
        return { what: `unknown ${field}`, change: (p: PolicyData) => setKey(getAt(p, site.path) as Record<string, unknown>, key, true), field, how };
      }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(0, 1), serialisation).map(([i, how]) => ({
      what: `rules[${i}] names migrating without stopFirst`,
      change: (p: PolicyData) => {
        p.rules[i].statuses = ['failed', 'migrating'];
        delete p.rules[i].stopFirst;
      },
      field: `rules[${i}].stopFirst`,
      how,
    })),
  },
);

/** 20 different refused policies, the same ones on every run. */
const E2E_CASES = fc.sample(fc.uniqueArray(e2eCase, { selector: (c) => c.what, minLength: 20, maxLength: 20 }), { seed: 0x70f1c3, numRuns: 1 })[0] ?? [];

describe('policy fuzzing end to end: the CLI refuses a mutated policy with exit 2 before any request', () => {
  let emu: Emulator;
  let dir: string;
  const env = { OMS_AUTH_TOKEN: TOKEN };

  /** Valid, and with tasks in the emulator it would delete: a refusal is the only reason nothing goes. */
  function basePolicy(): PolicyData {
    return {
      version: 1,
      targets: [{ name: 'main', projectId: PROJECT, region: 'cn-north-4', endpoint: emu.url }],
      rules: [
        { name: 'failed-after-30d', statuses: ['failed'], olderThan: '30d', keepLatest: 0, namePattern: 'task-*' },
        { name: 'stuck', statuses: ['migrating'], olderThan: '2d', stopFirst: true },
      ],
      protect: { names: ['keep-*'], taskIds: ['13'], groupTasks: true },
      limits: { maxDeletesPerRun: 100, maxDeletePercent: 100, stopTimeout: '1m' },
      concurrency: 2,
      requestsPerSecond: 50,
      dryRun: false,
    };
  }

  function writePolicy(name: string, c: Pick<E2eCase, 'change' | 'how'>): string {
    const p = basePolicy();
    c.change(p);
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, serialise(p, c.how));
    return file;
  }

  beforeAll(async () => {
    emu = await emulator();
    dir = mkdtempSync(join(tmpdir(), 'janitor-policy-fuzz-'));
  });
  beforeEach(() => {
    emu.setTasks(PROJECT, [task('11', 4, 40 * DAY), task('12', 4, 50 * DAY), task('13', 4, 60 * DAY)]);
    emu.resetStats();
  });
  afterAll(async () => emu.close());

  it('the unmutated policy deletes (so that the zero-request checks below can fail)', async () => {
    const file = writePolicy('base', { change: () => undefined, how: 'yaml' });
    const r = await runCli(['purge', '--policy', file, '--no-dry-run'], env);
    expect(r.code).toBe(0);
    expect(deletedIds(emu)).toEqual(['11', '12']);
  });

  it(`purge --no-dry-run with ${E2E_CASES.length} refused policies: exit 2, the field named on stderr, no request at all`, async () => {
    const problems: string[] = [];
    for (const [i, c] of E2E_CASES.entries()) {
      const file = writePolicy(`case-${i}`, c);
      expect(() => parsePolicy(readFileSync(file, 'utf8'), file)).toThrow(PolicyError);
      const r = await runCli(['purge', '--policy', file, '--no-dry-run'], env);
      if (r.code !== 2) problems.push(`${c.what}: exit ${r.code}`);
      if (!r.stderr.includes(`invalid policy ${file}`) || !r.stderr.includes(`${c.field}: `)) problems.push(`${c.what}: stderr does not name ${c.field}: ${r.stderr}`);
      if (r.stdout !== '') problems.push(`${c.what}: stdout ${r.stdout}`);
    }
    expect(problems).toEqual([]);
    // Refused before credentials are even looked at: OMS saw nothing, so nothing was stopped or deleted.
    expect(emu.stats.total).toBe(0);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(emu.stats.calls.stop ?? 0).toBe(0);
    expect(emu.stats.deleted).toEqual({});
    expect(emu.stats.stopped).toEqual({});
  });

  it('the compiled CLI (bin/oms-janitor.js, dist/) does the same', async () => {
    const run = promisify(execFile);
    // One process only: a start costs about half a second here; the in-process runs above cover the cases.
    for (const [i, c] of E2E_CASES.slice(0, 1).entries()) {
      const file = writePolicy(`bin-${i}`, c);
      const r = await run(process.execPath, [join(ROOT, 'bin', 'oms-janitor.js'), 'purge', '--policy', file, '--no-dry-run'], {
        cwd: ROOT,
        env: { ...process.env, ...env },
      }).then(
        (ok) => ({ code: 0, ...ok }),
        (error: { code?: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`invalid policy ${file}`);
      expect(r.stderr).toContain(`${c.field}: `);
    }
    expect(emu.stats.total).toBe(0);
  });
});
