import { finiteNumber, losslessText, numberText } from './json.js';
import { KIND_MODELS, isInProgress, type Kind, type RawStatus } from './kinds.js';

/**
 * One listed resource of any kind (a migration task, a task group, a sync task) as the janitor sees it: every field
 * of the API object is optional, so each one is normalised here once. Fields that only one kind has are absent (not
 * empty) on the others, so that a listing of 100,000 tasks carries no slot for them.
 */
export interface Item {
  kind: Kind;
  /** An id that may be placed in a URL, exactly as listed (see isValidId); null when malformed. */
  id: string | null;
  /** The id as listed, printable and bounded, for logs (also for malformed ids). */
  idText: string;
  /** Tasks: the task's name; '' when missing or not a string, and for the kinds that have none. */
  name: string;
  /** The status as listed (an integer for tasks and groups, a word for sync tasks); null when missing or of the
   * wrong type. Unknown values stay as they are. */
  status: RawStatus | null;
  /** Unix ms; null when the age is unknown (see parseItem). */
  lastActivityMs: number | null;
  /** Tasks: group_type as a string; null when absent (a normal task) and for the other kinds. */
  groupType: string | null;
  /** Member tasks: the group_id they name (a task group's or sync task's id), exactly as listed. Absent otherwise. */
  groupId?: string;
  /** Task groups and sync tasks: their description ('' when missing). */
  description?: string;
  /** Task groups and sync tasks: source and destination bucket ('' when missing). */
  srcBucket?: string;
  dstBucket?: string;
  /**
   * Items in progress only: the listed progress counters (KindModel.progressFields) as one string, to compare from
   * run to run (`noProgressFor`). Absent when the item lists none of them: no signal, never judged stuck.
   */
  progress?: string;
}

/** A task id: 1..19 decimal digits, no leading zero (an int64 kept as text). */
const TASK_ID = /^(0|[1-9][0-9]{0,18})$/;
/**
 * A group or sync task id: a string of 1..1024 characters (Huawei's API reference). Only letters, digits, `_`, `-` and
 * `.` (not first) are accepted: such an id goes into a URL path as it is, with nothing to escape and no way to form
 * `/`, `..`, `?` or `%`. Real ids are UUID-like; anything else is malformed and never placed in a URL.
 */
const STRING_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,1023}$/;
const MAX_ID_TEXT = 40;

/** True for an id of this kind that may be placed in a URL. */
export function isValidId(kind: Kind, id: string): boolean {
  return (kind === 'task' ? TASK_ID : STRING_ID).test(id);
}

/**
 * Reads one object of a lossless parse (see json.ts) as an item of `kind`. Never throws: whatever is missing or odd
 * becomes a value that selection treats as "leave it alone" (malformed id, unknown status, unknown age).
 * - tasks and groups: last activity = start_time + total_time (total_time missing counts as 0);
 * - sync tasks: last_start_time, or create_time when never started (last_start_time missing, null or 0).
 * A time that is present but not a positive number makes the age unknown: fail closed.
 */
export function parseItem(kind: Kind, raw: unknown): Item {
  const obj = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const idValue = obj[KIND_MODELS[kind].api.idField];
  const id = readId(kind, idValue);
  // Every string kept is an owned copy: a listing keeps 100,000 of these records, and a substring of a page's text
  // would keep the whole ~100 KB page alive (about 1 KB per item instead of about 100 bytes).
  const ownId = id === null ? null : owned(id);
  const item: Item = {
    kind,
    id: ownId,
    idText: ownId ?? owned(printable(idValue)),
    name: kind === 'task' && typeof obj.name === 'string' ? owned(obj.name) : '',
    status: readStatus(kind, obj.status),
    lastActivityMs: kind === 'syncTask' ? syncActivity(obj) : startPlusTotal(obj),
    groupType: kind === 'task' && obj.group_type !== undefined && obj.group_type !== null ? owned(printable(obj.group_type)) : null,
  };
  const fingerprint = progressOf(kind, item.status, obj);
  if (fingerprint !== undefined) item.progress = fingerprint;
  if (kind === 'task') {
    // Kept exactly (not cut for logs): it is compared with group and sync ids to keep a protected member's group.
    const groupId = typeof obj.group_id === 'string' ? obj.group_id : numberText(obj.group_id);
    if (groupId !== undefined && groupId !== '') item.groupId = owned(groupId);
    return item;
  }
  const node = (field: string) => (obj[field] !== null && typeof obj[field] === 'object' ? (obj[field] as Record<string, unknown>) : {});
  item.description = text(obj.description);
  item.srcBucket = text(kind === 'taskGroup' ? node('src_node').bucket : obj.src_bucket);
  item.dstBucket = text(kind === 'taskGroup' ? node('dst_node').bucket : obj.dst_bucket);
  return item;
}

/**
 * The counters of an item in progress, as `status=…;field=value;…` (values as listed, exactly), or undefined. The
 * status is part of it: a task that leaves `waiting` for `migrating` with its counters still at 0 has just started,
 * it has not been stuck since it was queued.
 */
function progressOf(kind: Kind, status: RawStatus | null, obj: Record<string, unknown>): string | undefined {
  const model = KIND_MODELS[kind];
  if (model.progressFields.length === 0 || !isInProgress(kind, status)) return undefined;
  const parts: string[] = [];
  for (const field of model.progressFields) {
    const value = numberText(obj[field]);
    if (value !== undefined) parts.push(`${field}=${value}`);
  }
  return parts.length === 0 ? undefined : `status=${String(status)};${parts.join(';')}`;
}

function startPlusTotal(obj: Record<string, unknown>): number | null {
  const start = positiveTime(obj.start_time);
  const total = obj.total_time === undefined || obj.total_time === null ? 0 : finiteNumber(obj.total_time);
  // A total_time that is present but not a non-negative number makes the age unknown.
  return start !== null && total !== undefined && total >= 0 ? start + total : null;
}

function syncActivity(obj: Record<string, unknown>): number | null {
  const last = obj.last_start_time;
  if (last === undefined || last === null || numberText(last) === '0') return positiveTime(obj.create_time);
  return positiveTime(last);
}

/** Unix ms from a positive JSON number; null when missing, 0, negative or not a number. */
function positiveTime(value: unknown): number | null {
  const n = finiteNumber(value);
  return n !== undefined && n > 0 ? n : null;
}

function readStatus(kind: Kind, value: unknown): RawStatus | null {
  if (kind === 'syncTask') return typeof value === 'string' ? owned(printable(value)) : null;
  const n = finiteNumber(value);
  return n !== undefined && Number.isInteger(n) ? n : null;
}

function text(value: unknown): string {
  return typeof value === 'string' ? owned(value) : '';
}

/**
 * `text` in storage of its own. V8 keeps a string cut out of a longer one (13 characters or more) as a slice that
 * holds the whole parent alive; the JSON round trip makes a fresh string and, unlike a UTF-8 round trip, keeps
 * every code unit exactly (lone surrogates included), so a name compares and matches as it was listed.
 */
export function owned(value: string): string {
  return value.length < 13 ? value : (JSON.parse(JSON.stringify(value)) as string);
}

/**
 * A valid id of this kind. Tasks: a JSON number or a digit string, leading zeros refused (they could name another
 * task). Groups and sync tasks: only a JSON string (a number such as 1e3 would name another id once printed).
 */
function readId(kind: Kind, value: unknown): string | null {
  const text = kind === 'task' ? (typeof value === 'string' ? value : numberText(value)) : typeof value === 'string' ? value : undefined;
  return text !== undefined && isValidId(kind, text) ? text : null;
}

function printable(value: unknown): string {
  let shown: string;
  if (value === undefined) shown = '(missing)';
  else if (typeof value === 'string') shown = value;
  else shown = numberText(value) ?? losslessText(value);
  shown = shown.replace(/[^\x20-\x7e]/g, '?');
  return shown.length > MAX_ID_TEXT ? `${shown.slice(0, MAX_ID_TEXT)}…` : shown;
}
