#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`; `npm ci` builds it through the `prepare` script), so a
// start costs no TypeScript compilation. The sources are bin/main.ts and bin/cli.ts.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/oms-janitor.mjs', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('oms-janitor: the compiled CLI (dist/) is missing: run `npm ci` or `npm run build` first.\n');
  process.exit(2);
}
await import(compiled.href);
