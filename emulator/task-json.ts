import type { EmuTask } from './types.js';

/** Digit strings that are valid JSON numbers (no leading zeros): these ids go out bare, never rounded. */
const JSON_INTEGER = /^(0|[1-9][0-9]*)$/;

/**
 * One task as JSON text. The id is spliced in by hand because JSON.stringify of a JS number would round anything
 * above 2^53; the real API sends int64 ids as bare numbers and the client must cope.
 */
export function taskJson(task: EmuTask, status: number | undefined): string {
  const { id, ...rest } = task;
  if (status !== undefined) rest.status = status;
  const restText = JSON.stringify(rest);
  if (id === undefined || id === null) return restText;
  const idString = String(id);
  const idText = JSON_INTEGER.test(idString) ? idString : JSON.stringify(idString);
  return restText === '{}' ? `{"id":${idText}}` : `{"id":${idText},${restText.slice(1)}`;
}

export interface RawInfo {
  /** The id as written: digits of a number, or a string's content; undefined when absent or not a scalar. */
  id: string | undefined;
  /** Parsed top-level object, when the text is a JSON object (numbers possibly rounded: for status/start_time only). */
  parsed: Record<string, unknown> | undefined;
}

/**
 * Best-effort look into a hostile raw entry, enough to sort, filter and address it. The id is read from the text
 * (the first "id" key) so a big number is not rounded on the way.
 */
export function inspectRaw(rawJson: string): RawInfo {
  let parsed: Record<string, unknown> | undefined;
  try {
    const value: unknown = JSON.parse(rawJson);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  const m = /"id"\s*:\s*("(?:[^"\\]|\\.)*"|[-+0-9.eE]+)/.exec(rawJson);
  let id: string | undefined;
  if (m?.[1] !== undefined && parsed !== undefined && 'id' in parsed) {
    id = m[1].startsWith('"') ? String(JSON.parse(m[1])) : m[1];
  }
  return { id, parsed };
}
