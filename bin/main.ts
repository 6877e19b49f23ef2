/**
 * The CLI's entry as compiled into dist/ (build/build-cli.mjs): `--help` is answered without loading the engine,
 * everything else loads cli.ts (a separate chunk) and runs it.
 */
import { HELP } from './help.js';

// stderr carries JSON lines only. On Node 20 the AWS SDK would print a multi-line notice that its releases after
// January 2027 need Node 22 (this project pins its SDK in package-lock.json; the Lambda runtime is Node 22).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h')) {
  process.stdout.write(HELP);
} else {
  const { main } = await import('./cli.js');
  // stdin is only touched when a confirmation is asked (a real run on a terminal): a getter, not a read stream opened
  // for every run.
  process.exitCode = await main(argv, {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    get stdin() {
      return process.stdin;
    },
  });
}
