/**
 * Reading a policy: text -> YAML -> schema -> `Policy`, every failure a `PolicyError` naming the file, the field
 * and, where it can, the line. Validation happens here once; everything downstream trusts the `Policy` type.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document } from 'yaml';
import { defaultEndpoint } from '../http/endpoint.js';
import { HostAllowList } from '../http/allowed-hosts.js';
import { PolicyError } from './policy-error.js';
import type { PolicyIssue } from './policy-error.js';
import { toPolicyIssues } from './issues.js';
import { policySchema } from './schema.js';
import { describeIssue } from './schema-fields.js';
import type { Policy } from './types.js';

export { PolicyError } from './policy-error.js';
export type { PolicyIssue } from './policy-error.js';

export interface PolicyLoadOptions {
  /**
   * The hosts credentials may go to (lib/http/allowed-hosts.ts): every target's endpoint must be one of them.
   * Default: loopback and Huawei Cloud's official API domains only. The CLI and the Lambda pass
   * HostAllowList.fromEnv(process.env), so that OMS_JANITOR_ALLOWED_HOSTS, set outside the policy, can widen it.
   */
  allowedHosts?: HostAllowList;
}

/** Parses and validates policy text (YAML; JSON is YAML). `source` names it in errors. Throws `PolicyError`. */
export function parsePolicy(text: string, source = 'policy', options: PolicyLoadOptions = {}): Policy {
  const { doc, data, lineCounter } = readYaml(text, source);
  const result = policySchema.safeParse(data, { error: describeIssue });
  if (result.success) {
    const refused = hostIssues(result.data, options.allowedHosts ?? HostAllowList.official());
    if (refused.length === 0) return result.data;
    throw new PolicyError(source, refused.map(({ path, issue }) => withLine(issue, path, doc, lineCounter)));
  }
  const issues = toPolicyIssues(result.error.issues).map(({ path, issue }) => withLine(issue, path, doc, lineCounter));
  // In file order, so the list reads top to bottom like the file (stable sort; issues without a line go last).
  issues.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  throw new PolicyError(source, issues);
}

function readYaml(text: string, source: string): { doc: Document; data: unknown; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  // intAsBigInt: an integer above 2^53 must reach validation unrounded, so that a protected task id written as a
  // bare number is refused instead of silently protecting a neighbouring id. uniqueKeys: a duplicated key is an
  // error, not "the last one wins".
  const doc = parseDocument(text, { intAsBigInt: true, uniqueKeys: true, prettyErrors: true, lineCounter });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => {
      const at = error.linePos?.[0];
      const message = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? error.code;
      // The position goes into the message (with the column) rather than into `line`, which would repeat it.
      const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
      return { path: '', message: `YAML syntax error${where}: ${message}` };
    });
    throw new PolicyError(source, issues);
  }
  if (doc.contents === null) throw new PolicyError(source, [{ path: '', message: 'the policy file is empty' }]);
  let data: unknown;
  try {
    // The alias limit stops a "billion laughs" file from expanding into gigabytes.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw new PolicyError(source, [{ path: '', message: `YAML error${unresolvedAliasAt(doc, lineCounter)}: ${(cause as Error).message}` }], { cause });
  }
  return { doc, data: safeNumbers(data, new WeakSet()), lineCounter };
}

/**
 * A target whose endpoint may not receive credentials (see PolicyLoadOptions.allowedHosts). Named by `endpoint`, or
 * by `region` when the endpoint is the region's default (which is always official: a region is `[a-z0-9-]+`).
 */
function hostIssues(policy: Policy, allowed: HostAllowList): { path: PropertyKey[]; issue: PolicyIssue }[] {
  const out: { path: PropertyKey[]; issue: PolicyIssue }[] = [];
  policy.targets.forEach((target, index) => {
    const why = allowed.refusal(target.endpoint);
    if (why === undefined) return;
    const field = target.endpoint === defaultEndpoint(target.region) ? 'region' : 'endpoint';
    out.push({ path: ['targets', index, field], issue: { path: `targets[${index}].${field}`, message: why } });
  });
  return out;
}

/** ` at line L, column C` of the first alias whose anchor is not set before it, or ''. */
function unresolvedAliasAt(doc: Document, lines: LineCounter): string {
  let at = '';
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) !== undefined || node.range === undefined || node.range === null) return undefined;
      const pos = lines.linePos(node.range[0]);
      at = ` at line ${pos.line}, column ${pos.col}`;
      return visit.BREAK;
    },
  });
  return at;
}

/** Reads and validates a policy file. Throws `PolicyError`, also when the file cannot be read. */
export async function loadPolicy(file: string, options: PolicyLoadOptions = {}): Promise<Policy> {
  return (await loadPolicyFile(file, options)).policy;
}

/** loadPolicy, and the SHA-256 (hex) of the file's bytes, which a plan's manifest records. */
export async function loadPolicyFile(file: string, options: PolicyLoadOptions = {}): Promise<{ policy: Policy; sha256: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(cause));
    throw new PolicyError(file, [{ path: '', message: `cannot read policy file ${file}: ${why}` }], { cause });
  }
  return { policy: parsePolicy(bytes.toString('utf8'), file, options), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * BigInt integers back to numbers where that is exact; larger ones stay BigInt, which every number field refuses
 * with its range message and `protect.taskIds` refuses with "quote it". Objects are rewritten with
 * defineProperty: a YAML key `__proto__` is an own property (then an unknown field), never a prototype.
 */
function safeNumbers(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) && BigInt(n) === value ? n : value;
  }
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const converted = safeNumbers(record[key], seen);
    Object.defineProperty(record, key, { value: converted, writable: true, enumerable: true, configurable: true });
  }
  return value;
}

/** Adds the line of the offending value, or of the nearest enclosing one that exists (for a missing field). */
function withLine(issue: PolicyIssue, path: readonly PropertyKey[], doc: Document, lines: LineCounter): PolicyIssue {
  // Not for the top level itself: "line 1" would point at nothing in particular.
  for (let depth = path.length; depth >= 1; depth -= 1) {
    const offset = rangeStart(doc.contents, path.slice(0, depth));
    if (offset !== undefined) return { ...issue, line: lines.linePos(offset).line };
  }
  return issue;
}

/**
 * Where the node at `path` (keys as toJS made them) starts. Walked by hand rather than with doc.getIn, which looks
 * keys up by value: a key written `null:`, `1:` or `true:` is the string '', '1' or 'true' in the data but a null,
 * number or boolean scalar in the document. For a map entry, the value's start, or the key's when it has no value.
 */
function rangeStart(root: unknown, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = root;
  let start: number | undefined;
  for (const segment of path) {
    if (isSeq(node)) {
      node = typeof segment === 'number' ? node.items[segment] : undefined;
    } else if (isMap(node)) {
      const pair = node.items.find((item) => jsKey(item.key) === String(segment));
      if (pair === undefined) return undefined;
      start = (pair.key as { range?: [number, number, number] } | null)?.range?.[0];
      node = pair.value;
      if (node === null) return start;
    } else return undefined;
    if (node === undefined) return undefined;
  }
  return (node as { range?: [number, number, number] } | null)?.range?.[0] ?? start;
}

/** A map key as toJS turns it into a property name (a null key becomes ''). */
function jsKey(key: unknown): string {
  if (isScalar(key)) return key.value === null || key.value === undefined ? '' : String(key.value);
  return String(key);
}
