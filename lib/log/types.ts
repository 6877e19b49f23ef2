/** Structured log lines: a message and flat fields. Implementations redact secrets before anything is written. */
export interface EventLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A log that writes nothing (library default; tests that do not look at logs). */
export const silentLog: EventLog = { debug() {}, info() {}, warn() {}, error() {} };
