import { LogLevelThreshold, Logger, type LogItem } from '@aws-lambda-powertools/logger';
import { escapeJsonText } from './terminal.js';
import type { Redactor } from './redact.js';
import type { EventLog } from './types.js';

/**
 * Powertools' Logger with every level on stdout, terminal-safe. Powertools prints WARN and ERROR through
 * console.warn/error, i.e. to stderr; the contract says the Lambda's JSON lines go to stdout (CloudWatch takes both,
 * but `serverless invoke local` and anything reading stdout would miss exactly the 400/403 lines). The line, its
 * `level` field included, is Powertools' own (POWERTOOLS_DEV's indentation aside).
 */
export class StdoutLogger extends Logger {
  /**
   * Powertools' own printLog, with two changes: stdout for every level, and the line made terminal-safe (C1 and
   * bidi controls as \u escapes, which decode to the same text): `serverless logs --tail` and the CloudWatch console
   * show these lines to a person, and task names come from the server.
   */
  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    process.stdout.write(`${escapeJsonText(JSON.stringify(log.getAttributes(), this.getJsonReplacer()))}\n`);
  }
}

/**
 * The engine's EventLog on Powertools' Logger (Lambda): JSON on stdout with the Lambda context fields
 * (function_request_id, cold_start, …). Every line goes through the redactor before Powertools sees it.
 */
export function powertoolsLog(logger: Logger, redactor: Redactor): EventLog {
  const emit = (level: 'debug' | 'info' | 'warn' | 'error') => {
    const threshold = LogLevelThreshold[level.toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'];
    return (message: string, fields?: Record<string, unknown>) => {
      // Below the logger's level (read each time: Powertools' debug sampling may change it), nothing is redacted for
      // a line Powertools would drop: a 100k-task dry run has as many DEBUG lines. `logger.level` is the number;
      // getLevelName() would build Object.entries of every level for each line (about 450 bytes).
      if (threshold < logger.level) return;
      if (fields) logger[level](redactor.text(message), redactor.value(fields) as Record<string, unknown>);
      else logger[level](redactor.text(message));
    };
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
