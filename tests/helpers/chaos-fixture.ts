/**
 * The chaos suite's task listings, labelled by construction: every task is built to be selected or not under
 * CHAOS_RULES (the README's "Selection, exactly"), and the label says so. Nothing here calls the product's select:
 * the labels are what the chaos invariants hold the janitor to.
 */
import type { EmuTask, TaskInput } from '../../emulator/index.js';
import { mulberry32 } from '../../emulator/prng.js';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** keepLatest of the succeeded rule; the fixed window block below is built for exactly this many. */
export const KEEP_LATEST = 4;

/** The rules and protection every chaos listing is labelled against (YAML, after `targets:`; limits added later). */
export function chaosRules(protectIds: readonly string[]): string {
  return `rules:
  - { name: succeeded-after-7d, statuses: [succeeded], olderThan: 7d, keepLatest: ${KEEP_LATEST} }
  - { name: failed-after-30d, statuses: [failed], olderThan: 30d }
  - { name: stale-paused, statuses: [paused], olderThan: 14d, namePattern: "nightly-*" }
  - { name: stuck, statuses: [migrating, retrying, pausing], olderThan: 2d, stopFirst: true }
protect:
  names: ["keep-*"]
  taskIds: [${protectIds.map((id) => `"${id}"`).join(', ')}]
  groupTasks: true
`;
}

export interface FixtureTask {
  input: TaskInput;
  /** What the task is there to test (for messages). */
  kind: string;
  /** The id a DELETE would name; undefined for entries without a usable one (never to be deleted). */
  id: string | undefined;
  /** Selected under chaosRules: the janitor must delete it or report it. */
  selected: boolean;
  /** Selected and stoppable (waiting, migrating, retrying): the only tasks the janitor may pause. */
  mayStop: boolean;
  /** start_time + total_time when start_time is a positive number (the order of a run cap: oldest first). */
  lastActivityMs?: number;
}

export interface TargetFixture {
  name: string;
  projectId: string;
  tasks: FixtureTask[];
  /** Ids for protect.taskIds. */
  protectIds: string[];
}

type Shape = Omit<EmuTask, 'id'>;
interface Row {
  kind: string;
  weight: number;
  selected: boolean;
  mayStop?: boolean;
  make: (id: string) => Shape;
  /** Protected through protect.taskIds. */
  protectId?: true;
}

/**
 * Builds one target's listing: a fixed block of edge cases (the keepLatest window, odd ids and data, big ids) and
 * `size` tasks in all drawn from BULK by a PRNG seeded with `seed`. Ages are measured from `nowMs`, with at least an
 * hour's margin from every threshold, so a run's own duration never moves a task across one.
 */
export function targetFixture(seed: number, size: number, t: number, name: string, projectId: string, nowMs: number): TargetFixture {
  const r = mulberry32(seed * 7919 + t);
  let n = 0;
  const nextId = () => String((t + 1) * 10_000_000 + ++n);
  const ago = (ageMs: number) => nowMs - ageMs;
  const between = (loMs: number, hiMs: number) => loMs + r() * (hiMs - loMs);
  const tasks: FixtureTask[] = [];
  const protectIds: string[] = [];
  const add = (kind: string, selected: boolean, task: EmuTask, mayStop = false) => tasks.push({ input: task, kind, id: task.id, selected, mayStop, ...lastActivity(task) });
  const raw = (kind: string, json: string) => tasks.push({ input: { rawJson: json }, kind, id: undefined, selected: false, mayStop: false });
  const plain = (status: number | undefined, ageMs: number, extra: Partial<EmuTask> = {}): Shape => ({
    name: `task-${n}`, ...(status === undefined ? {} : { status }), start_time: ago(ageMs), total_time: 0, ...extra,
  });

  // The keepLatest window of the succeeded rule: the KEEP_LATEST (4) newest unprotected succeeded tasks of known
  // age are 1 d, 3 d, 8.5 d (by start_time + total_time) and the larger id of a tie at 9 d. Protected ones and ones
  // of unknown age are newer than 8.5 d but take no slot.
  add('window-young', false, { id: nextId(), ...plain(5, 1 * DAY) });
  add('window-young', false, { id: nextId(), ...plain(5, 3 * DAY) });
  add('window-protected-name', false, { id: nextId(), ...plain(5, 7.3 * DAY, { name: 'keep-window' }) });
  add('window-protected-group', false, { id: nextId(), ...plain(5, 7.4 * DAY, { group_type: 'GROUP_TASK' }) });
  add('window-unknown-age', false, { id: nextId(), ...plain(5, 0, { start_time: String(ago(7.5 * DAY)) as unknown as number }) });
  add('window-kept-by-total-time', false, { id: nextId(), ...plain(5, 20 * DAY, { total_time: 11.5 * DAY }) });
  const tieSmaller = nextId();
  const tieLarger = nextId();
  add('window-tie-larger-id-kept', false, { id: tieLarger, ...plain(5, 9 * DAY) });
  add('window-tie-smaller-id', true, { id: tieSmaller, ...plain(5, 9 * DAY) });

  // Ages read as start_time + total_time, total_time missing = 0.
  add('no-total-time', true, { id: nextId(), name: 'no-total-time', status: 5, start_time: ago(30 * DAY) });
  add('young-by-total-time', false, { id: nextId(), ...plain(4, 40 * DAY, { total_time: 15 * DAY }) });
  add('old-despite-total-time', true, { id: nextId(), ...plain(4, 45 * DAY, { total_time: 10 * DAY }) });
  add('paused-young-by-total-time', false, { id: nextId(), ...plain(3, 30 * DAY, { name: `nightly-tt-${t}`, total_time: 20 * DAY }) });
  add('stuck-young-by-total-time', false, { id: nextId(), ...plain(2, 5 * DAY, { total_time: 4 * DAY }) });
  add('stuck-old-with-total-time', true, { id: nextId(), ...plain(6, 5 * DAY, { total_time: 1 * DAY }) }, true);

  // Ids above 2^53, read without precision loss: A rounds to B as a double, and B is protected.
  const bigA = t === 0 ? '9007199254740993' : '9007199254740995';
  const bigB = t === 0 ? '9007199254740992' : '9007199254740996';
  add('big-id', true, { id: bigA, ...plain(4, 40 * DAY) });
  add('big-id-neighbour-protected', false, { id: bigB, ...plain(4, 40 * DAY) });
  protectIds.push(bigB);
  // The same for a stopFirst task: its pause, looks and delete all name it exactly; its neighbour is never paused.
  const bigStuck = t === 0 ? '9007199254741001' : '9007199254741003';
  const bigStuckNeighbour = t === 0 ? '9007199254741000' : '9007199254741004';
  add('big-id-stuck', true, { id: bigStuck, ...plain(2, 3 * DAY) }, true);
  add('big-id-stuck-neighbour-protected', false, { id: bigStuckNeighbour, ...plain(2, 3 * DAY) });
  protectIds.push(bigStuckNeighbour);
  add('19-digit-id', true, { id: t === 0 ? '9223372036854775807' : '9223372036854775806', ...plain(4, 40 * DAY) });

  // Malformed ids: skipped, never in a URL. 1.5e3 is not the id 1500, which is protected.
  const old = ago(40 * DAY);
  raw('id-exponent', `{"id":${t + 1}.5e3,"name":"exp","status":4,"start_time":${old}}`);
  add('exponent-lookalike-protected', false, { id: String((t + 1) * 1000 + 500), ...plain(4, 40 * DAY, { name: `keep-${t}-1500` }) });
  raw('id-text', `{"id":"abc","name":"text-id","status":4,"start_time":${old}}`);
  raw('id-negative', `{"id":-${t + 7},"name":"neg","status":4,"start_time":${old}}`);
  raw('id-object', `{"id":{"v":1},"name":"obj","status":4,"start_time":${old}}`);
  raw('id-null', `{"id":null,"name":"null-id","status":4,"start_time":${old}}`);
  raw('id-missing', `{"name":"no-id","status":4,"start_time":${old}}`);
  raw('id-20-digits', `{"id":1234567890123456789${t},"name":"twenty","status":4,"start_time":${old}}`);

  // Odd data: unknown statuses and ages are left alone; odd names and extra fields do not stop a selection.
  add('status-missing', false, { id: nextId(), ...plain(undefined, 40 * DAY) });
  add('status-unknown', false, { id: nextId(), ...plain(42, 40 * DAY) });
  add('status-zero', false, { id: nextId(), ...plain(0, 40 * DAY) });
  add('start-time-missing', false, { id: nextId(), name: 'no-start', status: 4 });
  add('start-time-zero', false, { id: nextId(), ...plain(4, 0, { start_time: 0 }) });
  add('start-time-null', false, { id: nextId(), ...plain(5, 0, { start_time: null as unknown as number }) });
  add('name-missing', true, { id: nextId(), status: 4, start_time: ago(40 * DAY) });
  add('name-control-chars', true, { id: nextId(), ...plain(4, 40 * DAY, { name: 'fail\u202e\u001b[2J\u2603' }) });
  add('name-case-differs', true, { id: nextId(), ...plain(4, 40 * DAY, { name: `KEEP-${n}` }) });
  add('name-not-whole-match', true, { id: nextId(), ...plain(4, 40 * DAY, { name: `xkeep-${n}` }) });
  add('extra-fields', true, { id: nextId(), ...plain(5, 12 * DAY, { progress: 1, src_node: { region: 'x', ak: null }, left_time: 0, description: '' }) });

  const rows = bulkRows({ plain, between, r, name: () => `task-${n}` });
  const totalWeight = rows.reduce((sum, row) => sum + row.weight, 0);
  while (tasks.length < size) {
    let x = r() * totalWeight;
    const row = rows.find((candidate) => (x -= candidate.weight) < 0) ?? rows[0]!;
    const id = nextId();
    const task: EmuTask = { id, ...row.make(id) };
    if (row.protectId) protectIds.push(id);
    tasks.push({ input: task, kind: row.kind, id, selected: row.selected, mayStop: row.mayStop ?? false, ...lastActivity(task) });
  }
  return { name, projectId, tasks, protectIds };
}

function lastActivity(task: EmuTask): { lastActivityMs?: number } {
  const start = task.start_time;
  if (typeof start !== 'number' || !(start > 0)) return {};
  return { lastActivityMs: start + (typeof task.total_time === 'number' ? task.total_time : 0) };
}

interface RowContext {
  plain: (status: number | undefined, ageMs: number, extra?: Partial<EmuTask>) => Shape;
  between: (loMs: number, hiMs: number) => number;
  r: () => number;
  name: () => string;
}

/** The bulk of a listing: one row per kind of task, drawn by weight. */
function bulkRows({ plain, between, r, name }: RowContext): Row[] {
  const oneOf = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  return [
    { kind: 'succeeded-old', weight: 14, selected: true, make: () => plain(5, between(10 * DAY, 60 * DAY)) },
    { kind: 'failed-old', weight: 10, selected: true, make: () => plain(4, between(31 * DAY, 90 * DAY)) },
    { kind: 'failed-young', weight: 5, selected: false, make: () => plain(4, between(1 * HOUR, 29 * DAY)) },
    { kind: 'stuck', weight: 8, selected: true, mayStop: true, make: () => plain(oneOf([2, 6]), between(2 * DAY + HOUR, 20 * DAY)) },
    { kind: 'in-progress-young', weight: 4, selected: false, make: () => plain(oneOf([2, 6]), between(0, 2 * DAY - HOUR)) },
    { kind: 'waiting', weight: 3, selected: false, make: () => plain(1, between(0, 60 * DAY)) },
    { kind: 'paused-nightly-old', weight: 5, selected: true, make: (id) => plain(3, between(15 * DAY, 60 * DAY), { name: `nightly-${id}` }) },
    { kind: 'paused-other-old', weight: 4, selected: false, make: (id) => plain(3, between(15 * DAY, 60 * DAY), { name: oneOf([`adhoc-${id}`, `Nightly-${id}`, `xnightly-${id}`]) }) },
    { kind: 'paused-nightly-young', weight: 2, selected: false, make: (id) => plain(3, between(1 * HOUR, 13 * DAY), { name: `nightly-${id}` }) },
    // Pausing turns paused in the emulator (stopDelayMs after the listing is set): listed as either, a rule selects it.
    { kind: 'pausing-nightly-old', weight: 2, selected: true, make: (id) => plain(7, between(15 * DAY, 60 * DAY), { name: `nightly-${id}` }) },
    { kind: 'pausing-young', weight: 2, selected: false, make: (id) => plain(7, between(0, 1 * DAY), { name: `adhoc-${id}` }) },
    { kind: 'protected-name', weight: 4, selected: false, make: (id) => plain(oneOf([4, 5, 2, 6]), between(31 * DAY, 60 * DAY), { name: `keep-${id}` }) },
    { kind: 'protected-id', weight: 3, selected: false, protectId: true, make: () => plain(oneOf([4, 2]), between(31 * DAY, 60 * DAY)) },
    { kind: 'group-member', weight: 3, selected: false, make: () => plain(oneOf([4, 5, 2]), between(31 * DAY, 60 * DAY), { group_type: oneOf(['GROUP_TASK', 'SYNC_TASK']), group_id: 'g1' }) },
    { kind: 'normal-group-type', weight: 2, selected: true, make: () => plain(4, between(31 * DAY, 60 * DAY), { group_type: 'NORMAL_TASK' }) },
    { kind: 'unknown-status', weight: 2, selected: false, make: () => plain(oneOf([0, 8, 42]), between(31 * DAY, 60 * DAY)) },
    { kind: 'unknown-age', weight: 2, selected: false, make: () => ({ name: name(), status: oneOf([4, 5]), ...(r() < 0.5 ? {} : { start_time: 0 }) }) },
  ];
}
