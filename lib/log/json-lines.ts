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
  const emit = (level: LogLevel) => {
    if (LOG_LEVELS.indexOf(level) < min) return () => undefined;
    // One object per line, its fields redacted as they are copied in (the same fields, in the same order, as
    // {level, timestamp, message, ...context, ...fields}).
    return (message: string, fields?: Record<string, unknown>) => {
      const line: Record<string, unknown> = { level, timestamp: new Date(clock()).toISOString(), message: redactor.text(message) };
      if (context) redactor.into(line, context);
      if (fields) redactor.into(line, fields);
      write(`${terminalSafeJson(line)}\n`);
    };
  };
  return { debug: emit('DEBUG'), info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR') };
}
