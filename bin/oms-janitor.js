#!/usr/bin/env node
// The CLI runs the TypeScript sources directly through tsx, so `npx oms-janitor` works right after `npm ci` with no
// build step and can never run stale compiled code.
import { register } from 'tsx/esm/api';

// stderr carries JSON lines only. On Node 20 the AWS SDK would print a multi-line notice that its releases after
// January 2027 need Node 22 (this project pins its SDK in package-lock.json; the Lambda runtime is Node 22).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
