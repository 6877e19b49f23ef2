import { finiteNumber, losslessText, numberText } from './json.js';

/** A task as the janitor sees it: every field of the API object is optional, so each one is normalised here once. */
export interface Task {
  /** 1..19 decimal digits, exactly as in the JSON; null when malformed. A null id is never placed in a URL. */
  id: string | null;
  /** The id as listed, printable and bounded, for logs (also for malformed ids). */
  idText: string;
  /** '' when missing or not a string. */
  name: string;
  /** The status code as listed; null when missing or not an integer. Unknown codes stay as they are. */
  status: number | null;
  /** Unix ms; null when missing, 0, negative or not a number. */
  startTimeMs: number | null;
  /** `start_time + total_time` (total_time missing counts as 0); null when the age is unknown. */
  lastActivityMs: number | null;
  /** group_type as a string; null when absent (a normal task). */
  groupType: string | null;
}

const VALID_ID = /^(0|[1-9][0-9]{0,18})$/;
const MAX_ID_TEXT = 40;

/**
 * Reads one task object from a lossless parse (see json.ts). Never throws: whatever is missing or odd becomes a
 * value that selection treats as "leave it alone" (malformed id, unknown status, unknown age).
 */
export function parseTask(raw: unknown): Task {
  const obj = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const id = readId(obj.id);
  const statusNumber = finiteNumber(obj.status);
  const startTime = finiteNumber(obj.start_time);
  const startTimeMs = startTime !== undefined && startTime > 0 ? startTime : null;
  const totalTimeMs = obj.total_time === undefined || obj.total_time === null ? 0 : finiteNumber(obj.total_time);
  // A total_time that is present but not a non-negative number makes the age unknown: fail closed.
  const lastActivityMs =
    startTimeMs !== null && totalTimeMs !== undefined && totalTimeMs >= 0 ? startTimeMs + totalTimeMs : null;
  // Every string kept is an owned copy: a listing keeps 100,000 of these records, and a substring of a page's text
  // would keep the whole ~100 KB page alive (about 1 KB per task instead of about 100 bytes).
  const ownId = id === null ? null : owned(id);
  return {
    id: ownId,
    idText: ownId ?? owned(printable(obj.id)),
    name: typeof obj.name === 'string' ? owned(obj.name) : '',
    status: statusNumber !== undefined && Number.isInteger(statusNumber) ? statusNumber : null,
    startTimeMs,
    lastActivityMs,
    groupType: obj.group_type === undefined || obj.group_type === null ? null : owned(printable(obj.group_type)),
  };
}

/**
 * `text` in storage of its own. V8 keeps a string cut out of a longer one (13 characters or more) as a slice that
 * holds the whole parent alive; the JSON round trip makes a fresh string and, unlike a UTF-8 round trip, keeps
 * every code unit exactly (lone surrogates included), so a name compares and matches as it was listed.
 */
export function owned(text: string): string {
  return text.length < 13 ? text : (JSON.parse(JSON.stringify(text)) as string);
}

/** A valid id from a JSON number or a digit string; leading zeros are refused (they could name another task). */
function readId(value: unknown): string | null {
  const text = typeof value === 'string' ? value : numberText(value);
  return text !== undefined && VALID_ID.test(text) ? text : null;
}

function printable(value: unknown): string {
  let text: string;
  if (value === undefined) text = '(missing)';
  else if (typeof value === 'string') text = value;
  else text = numberText(value) ?? losslessText(value);
  text = text.replace(/[^\x20-\x7e]/g, '?');
  return text.length > MAX_ID_TEXT ? `${text.slice(0, MAX_ID_TEXT)}…` : text;
}

/** True for an id that may be placed in a URL: 1..19 decimal digits, no leading zero. */
export function isValidTaskId(id: string): boolean {
  return VALID_ID.test(id);
}
