import type { Redactor } from './redact.js';
import { terminalSafeJson } from './terminal.js';
import { LOG_LEVELS, type EventLog, type LogLevel } from './types.js';

export interface JsonLinesOptions {
  /** Lines below this level are dropped. Default INFO. */
  level?: LogLevel;
  redactor: Redactor;
  /** Default Date.now. */
  clock?: () => number;
  /** Fields on every line (runId, service). */
  context?: Record<string, unknown>;
}

/** One JSON object per line on a stream (the CLI writes them to stderr, keeping stdout for `--json`). */
export function jsonLinesLog(write: (line: string) => void, options: JsonLinesOptions): EventLog {
  const min = LOG_LEVELS.indexOf(options.level ?? 'INFO');
  const clock = options.clock ?? Date.now;
  const { redactor, context } = options;
  const timestamp = isoTimestamps(clock);
  const emit = (level: LogLevel) => {
    if (LOG_LEVELS.indexOf(level) < min) return () => undefined;
    // One object per line, its fields redacted as they are copied in (the same fields, in the same order, as
    // {level, timestamp, message, ...context, ...fields}).
    return (message: string, fields?: Record<string, unknown>) => {
      const line: Record<string, unknown> = { level, timestamp: timestamp(), message: redactor.text(message) };
      if (context) redactor.into(line, context);
      if (fields) redactor.into(line, fields);
      write(`${terminalSafeJson(line)}\n`);
    };
  };
  return { debug: emit('DEBUG'), info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR') };
}

/** The largest time a Date holds, either side of 1970. */
const MAX_DATE_MS = 8.64e15;

/**
 * The clock's time as toISOString writes it (`2026-12-04T15:04:05.123Z`), a line at a time. toISOString formats
 * through printf (several microseconds, about a fifth of a log line's cost): the part up to the seconds is made once
 * a second and the milliseconds are appended. Any time toISOString takes comes out the same, years beyond 9999 and
 * before 1970 included; one it refuses (NaN) throws as it would.
 */
export function isoTimestamps(clock: () => number): () => string {
  let second = Number.NaN;
  let prefix = ''; // `YYYY-MM-DDTHH:MM:SS.`
  return () => {
    const ms = Math.trunc(clock()); // as Date does with a fraction
    if (!(Math.abs(ms) <= MAX_DATE_MS)) return new Date(ms).toISOString(); // NaN or out of range: throws
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      const iso = new Date(s * 1000).toISOString();
      prefix = iso.slice(0, -4); // without `000Z`
      second = s;
    }
    const milli = ms - s * 1000;
    return `${prefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  };
}
