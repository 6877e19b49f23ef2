/** What `serverless invoke local` prints: the handler's JSON log lines (Powertools, EMF), then the result. */
export interface InvokeOutput {
  /** Single-line JSON objects: Powertools log lines and embedded-metric-format blobs; stdout's in order, then stderr's. */
  lines: Record<string, unknown>[];
  /** The handler's return value, or for a throw `{errorMessage, errorType, stackTrace}`. */
  result: Record<string, unknown> | undefined;
}

/** Single-line JSON objects of a stream (anything else osls prints is skipped). */
function jsonLines(text: string[]): Record<string, unknown>[] {
  return text.filter((line) => line.startsWith('{"')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * osls prints the result last on stdout, indented (`JSON.stringify(value, null, 4)`), so it starts at a line that is
 * `{`. The log lines come from both streams: outside Lambda, Powertools writes WARN and ERROR lines with
 * console.warn/console.error, that is to stderr (in Lambda both end up in CloudWatch). Lines of one stream keep their
 * order; stdout's come first.
 */
export function parseInvokeOutput(stdout: string, stderr = ''): InvokeOutput {
  const all = stdout.split('\n');
  const start = all.lastIndexOf('{');
  const head = start < 0 ? all : all.slice(0, start);
  const lines = [...jsonLines(head), ...jsonLines(stderr.split('\n'))];
  const result = start < 0 ? undefined : (JSON.parse(all.slice(start).join('\n')) as Record<string, unknown>);
  return { lines, result };
}

/** The embedded-metric-format blobs among the lines. */
export function emfBlobs(lines: Record<string, unknown>[]): Record<string, unknown>[] {
  return lines.filter((line) => typeof line._aws === 'object' && line._aws !== null);
}
