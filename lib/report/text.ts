import { forTerminal } from '../log/terminal.js';

/**
 * SNS refuses a subject that is not printable ASCII, has a line break or control character, or is 100 characters or
 * longer (the Publish API reference). Anything else becomes `?`, and a long subject is cut with `...`.
 */
export const MAX_SUBJECT_CHARS = 99;

export function snsSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?').replace(/ {2,}/g, ' ').trim();
  // It must begin with a letter, a number or punctuation: never a space (trimmed above).
  return ascii.length <= MAX_SUBJECT_CHARS ? ascii : `${ascii.slice(0, MAX_SUBJECT_CHARS - 3).trimEnd()}...`;
}

/** One table cell or inline value: controls and bidi characters as visible escapes, cut to `maxChars`. */
export function cell(text: string, maxChars: number): string {
  const safe = forTerminal(text);
  return safe.length <= maxChars ? safe : `${safe.slice(0, maxChars - 1)}…`;
}

/** What a line costs inside the SNS message: JSON-escaped (the message is a JSON document), plus its line break. */
export function travellingBytes(line: string): number {
  return Buffer.byteLength(JSON.stringify(line), 'utf8') - 2 + 2;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
