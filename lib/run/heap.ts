/**
 * One full garbage collection, when the process was started with `--expose-gc` (the Lambda's NODE_OPTIONS and the
 * CLI's listing commands are: serverless.yml, bin/oms-janitor.js); nothing otherwise.
 *
 * Called once a run, when every listing is done and before selection, where a large run's memory peaks. The listing
 * leaves garbage that V8's young-generation collections cannot free: Node's fetch holds each request's objects
 * through weak references, which those collections treat as strong, so every page request leaves about 10 KB in
 * the old generation until the next full collection. Freed now, it is not under the selection's peak: a
 * 100,000-task dry run of the built handler peaks 6-8 MB lower (docs/operations.md, section 10b). The collection
 * itself takes 14 ms after a 1,000-task listing and 20 ms after a 100,000-task one (measured with --trace-gc), once a
 * run.
 */
export function collectListingGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
}
