#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`; `npm ci` builds it through the `prepare` script), so a
// start costs no TypeScript compilation. The sources are bin/main.ts and bin/cli.ts.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/oms-janitor.mjs', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('oms-janitor: the compiled CLI (dist/) is missing: run `npm ci` or `npm run build` first.\n');
  process.exit(2);
}

// purge, plan and apply list every item of their targets. At V8's default limits a 100,000-task listing grows the
// process by about 130 MB, most of it garbage V8 has not yet needed to collect; with the old space capped at 512 MB
// and the young generation at 4 MB per semi-space (as the Lambda is: serverless.yml NODE_OPTIONS) it grows by about
// 35, at no measurable CPU cost (npm run bench). V8 takes these flags only when it starts, so such a command runs in
// a child process that has them, unless the user gave heap flags of their own (node's options or NODE_OPTIONS).
// --expose-gc: the run collects once, when its listing is done (lib/run/heap.ts).
const HEAP_FLAGS = ['--max-old-space-size=512', '--max-semi-space-size=4', '--expose-gc'];
const argv = process.argv.slice(2);
// Node takes dashes or underscores in V8 flags (--max_old_space_size), and --max-heap-size too.
const ownFlags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((flag) => /^--max[-_](old[-_]space|semi[-_]space|heap)[-_]size/.test(flag));
if (process.env.OMS_JANITOR_HEAP_CHILD === '1' && process.channel) {
  // The child: it ends with its parent, however that one ended (kill -9 included), as one process would have. The
  // channel is only that signal: it keeps nothing running.
  delete process.env.OMS_JANITOR_HEAP_CHILD;
  process.channel.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  await import(compiled.href);
} else if (['purge', 'plan', 'apply'].includes(argv[0]) && !ownFlags) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, ...HEAP_FLAGS, fileURLToPath(import.meta.url), ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, OMS_JANITOR_HEAP_CHILD: '1' },
  });
  // Ctrl-C reaches both processes (one process group) and ends the child; a signal sent to this process alone is
  // passed on. This process ends as the child did.
  const forward = (signal) => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.on('exit', (code, signal) => {
    for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(name, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
} else {
  await import(compiled.href);
}
