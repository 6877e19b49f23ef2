/**
 * Policy durations: `<whole number><m|h|d|w>` such as `10m`, `7d`, `2w`. Deliberately tiny: no spaces, no decimals,
 * no seconds, no months or years (their length varies), so that what a reviewer reads is exactly what runs.
 */

const UNIT_MS = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

type Unit = keyof typeof UNIT_MS;

// The digit limit only keeps odd input cheap; the safe-integer check below is what bounds the value, so that a
// huge duration is an error instead of a rounded number.
const DURATION = /^([0-9]{1,15})([mhdw])$/;

/** What a duration must look like, for error messages. */
export const DURATION_FORMAT = '<whole number><m|h|d|w> such as 7d';

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

/**
 * Parses a policy duration. Leading zeros are accepted (`07d` can only mean 7 days); zero is not, and neither is a
 * value whose milliseconds are not a safe integer.
 */
export function parseDuration(text: string): DurationResult {
  const match = DURATION.exec(text);
  if (match === null) return { ok: false, message: `expected ${DURATION_FORMAT}, got ${JSON.stringify(text)}` };
  const amount = Number(match[1]);
  const ms = amount * UNIT_MS[match[2] as Unit];
  if (amount === 0) return { ok: false, message: `must be greater than zero, got ${JSON.stringify(text)}` };
  if (!Number.isSafeInteger(ms)) return { ok: false, message: `too large, got ${JSON.stringify(text)}` };
  return { ok: true, ms };
}

/** The duration in milliseconds, or undefined when it is not valid (see `parseDuration` for why). */
export function parseDurationMs(text: string): number | undefined {
  const result = parseDuration(text);
  return result.ok ? result.ms : undefined;
}
