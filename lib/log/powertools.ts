import type { Logger } from '@aws-lambda-powertools/logger';
import type { Redactor } from './redact.js';
import type { EventLog } from './types.js';

/**
 * The engine's EventLog on Powertools' Logger (Lambda): JSON on stdout with the Lambda context fields
 * (function_request_id, cold_start, …). Every line goes through the redactor before Powertools sees it.
 */
export function powertoolsLog(logger: Logger, redactor: Redactor): EventLog {
  const emit = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) => {
    if (fields) logger[level](redactor.text(message), redactor.value(fields) as Record<string, unknown>);
    else logger[level](redactor.text(message));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
