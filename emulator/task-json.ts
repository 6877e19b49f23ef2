import type { EmuTask } from './types.js';

/** Digit strings that are valid JSON numbers (no leading zeros): these ids go out bare, never rounded. */
const JSON_INTEGER = /^(0|[1-9][0-9]*)$/;

/**
 * One object (task, group, sync task) as JSON text, its id first. The id is spliced in by hand: with `bareDigitIds`
 * (tasks) a digit id goes out as a bare number, because JSON.stringify of a JS number would round anything above
 * 2^53 and the real API sends int64 task ids as bare numbers; otherwise (group and sync task ids) as a JSON string.
 */
export function itemJson(item: Record<string, unknown>, idField: string, bareDigitIds: boolean, status: unknown): string {
  const { [idField]: id, ...rest } = item;
  if (status !== undefined) rest.status = status;
  const restText = JSON.stringify(rest);
  if (id === undefined || id === null) return restText;
  const idString = String(id);
  const idText = bareDigitIds && JSON_INTEGER.test(idString) ? idString : JSON.stringify(idString);
  const head = `${JSON.stringify(idField)}:${idText}`;
  return restText === '{}' ? `{${head}}` : `{${head},${restText.slice(1)}`;
}

/** One task as JSON text: a digit id as a bare JSON number, even above 2^53. */
export function taskJson(task: EmuTask, status: number | undefined): string {
  return itemJson(task, 'id', true, status);
}

export interface RawInfo {
  /** The id as written: digits of a number, or a string's content; undefined when absent or not a scalar. */
  id: string | undefined;
  /** Parsed top-level object, when the text is a JSON object (numbers possibly rounded: for status/start_time only). */
  parsed: Record<string, unknown> | undefined;
}

const idPatterns = new Map<string, RegExp>();

/** The first `"<idField>": <scalar>` of a text; built once per id field. */
function idPattern(idField: string): RegExp {
  let pattern = idPatterns.get(idField);
  if (pattern === undefined) {
    const name = idField.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    pattern = new RegExp(`"${name}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*"|[-+0-9.eE]+)`);
    idPatterns.set(idField, pattern);
  }
  return pattern;
}

/**
 * Best-effort look into a hostile raw entry, enough to sort, filter and address it. The id is read from the text
 * (the first `idField` key) so a big number is not rounded on the way.
 */
export function inspectRaw(rawJson: string, idField = 'id'): RawInfo {
  let parsed: Record<string, unknown> | undefined;
  try {
    const value: unknown = JSON.parse(rawJson);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  const m = idPattern(idField).exec(rawJson);
  let id: string | undefined;
  if (m?.[1] !== undefined && parsed !== undefined && idField in parsed) {
    id = m[1].startsWith('"') ? String(JSON.parse(m[1])) : m[1];
  }
  return { id, parsed };
}
