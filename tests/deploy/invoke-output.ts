/** What `serverless invoke local` prints: the handler's JSON log lines (Powertools, EMF), then the result. */
export interface InvokeOutput {
  /** Single-line JSON objects: Powertools log lines and embedded-metric-format blobs, in order. */
  lines: Record<string, unknown>[];
  /** The handler's return value, or for a throw `{errorMessage, errorType, stackTrace}`. */
  result: Record<string, unknown> | undefined;
}

/** osls prints the result last, indented (`JSON.stringify(value, null, 4)`), so it starts at a line that is `{`. */
export function parseInvokeOutput(stdout: string): InvokeOutput {
  const all = stdout.split('\n');
  const start = all.lastIndexOf('{');
  const head = start < 0 ? all : all.slice(0, start);
  const lines = head.filter((line) => line.startsWith('{"')).map((line) => JSON.parse(line) as Record<string, unknown>);
  const result = start < 0 ? undefined : (JSON.parse(all.slice(start).join('\n')) as Record<string, unknown>);
  return { lines, result };
}

/** The embedded-metric-format blobs among the lines. */
export function emfBlobs(lines: Record<string, unknown>[]): Record<string, unknown>[] {
  return lines.filter((line) => typeof line._aws === 'object' && line._aws !== null);
}
