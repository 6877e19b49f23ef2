import { isLosslessNumber, parse, stringify } from 'lossless-json';

/**
 * Parses an OMS answer without losing precision: every JSON number stays a LosslessNumber holding its exact text,
 * so an int64 task id such as 9007199254740993 is never rounded into a neighbour's id by JSON.parse.
 * Throws SyntaxError on anything that is not JSON (an HTML error page, a truncated body).
 */
export function parseLossless(text: string): unknown {
  return parse(text);
}

/** The exact decimal text of a JSON number or digit string, or undefined for anything else. */
export function numberText(value: unknown): string | undefined {
  if (isLosslessNumber(value)) return value.value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A finite JS number from a JSON number, or undefined (missing, string, object, NaN, out of range). */
export function finiteNumber(value: unknown): number | undefined {
  const text = numberText(value);
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** JSON text of a value from a lossless parse (its numbers as written, not as LosslessNumber objects), for logs. */
export function losslessText(value: unknown): string {
  try {
    return stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
