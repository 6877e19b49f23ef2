#!/usr/bin/env node
// The CLI runs the TypeScript sources directly through tsx, so `npx oms-janitor` works right after `npm ci` with no
// build step and can never run stale compiled code.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
