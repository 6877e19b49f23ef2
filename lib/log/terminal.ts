/**
 * Text from servers (task names, error messages) reaches an operator's terminal, where an ESC/CSI/OSC sequence or a
 * bidi override can rewrite what is shown, say the plan approved before `--no-dry-run`. Everything a person reads is
 * passed through here first.
 */

// C0 controls (tab and newline included: they break a table row), DEL, C1 controls, and the bidi controls
// (ALM, LRM, RLM, LRE..RLO, LRI..PDI) that reorder what follows them.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// In JSON text these can only occur inside strings; U+2028/2029 are added because some viewers break lines on them.
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text with every control and bidi character shown as a visible escape (`\x1b`, `\u202e`). */
export function forTerminal(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** A message of several lines: each line escaped as by forTerminal, our own line breaks kept. */
export function forTerminalLines(text: string): string {
  return text.split('\n').map(forTerminal).join('\n');
}

/**
 * JSON that decodes to exactly the same value, with the characters that JSON.stringify leaves raw (C1 controls,
 * bidi controls) written as \u escapes, so that a JSON line on a terminal is as safe as a table cell.
 */
export function terminalSafeJson(value: unknown): string {
  return escapeJsonText(JSON.stringify(value));
}

/** JSON text (from any serializer) with the characters JSON.stringify leaves raw written as \u escapes. */
export function escapeJsonText(json: string): string {
  return json.replace(JSON_UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Rows padded into columns two spaces apart; `rightAligned[i]` pads column i on the left (numbers). Trailing spaces
 * are dropped, so the last column is never padded. Cells are laid out as they are: escape them first (forTerminal).
 * Used by the CLI's tables and the run report's.
 */
export function alignColumns(rows: readonly (readonly string[])[], rightAligned: readonly boolean[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((value, i) => (widths[i] = Math.max(widths[i] ?? 0, value.length)));
  return rows.map((row) => row.map((value, i) => (rightAligned[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** A word as a POSIX shell reads it back: as it is when it is plainly safe, else single-quoted (commands we print). */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
