import { DEMO_OTHER_ACCOUNT, demoAccounts, demoOtherAccountTasks } from './demo-accounts.js';
import { DEMO_PROJECTS, demoProjects } from './demo-data.js';
import { demoSyncTasks, demoTaskGroups } from './demo-kinds.js';
import { startEmulator } from './server.js';
import type { EmulatorOptions } from './types.js';

export const DEMO_TOKEN = 'demo-token';
/** policies/example.yaml points its targets here, so the example works against `oms-janitor emulator` as is. */
export const DEMO_PORT = 8790;

/** Bad command-line input; the CLI entry maps it to exit status 2. */
export class EmulatorCliError extends Error {
  override readonly name = 'EmulatorCliError';
}

export interface EmulatorCliArgs {
  port: number;
  seed: number;
  latencyMs: number;
  help?: boolean;
}

const USAGE = `usage: oms-janitor emulator [--port N (default ${DEMO_PORT}; 0 = any free port)] [--seed N] [--latency MS]`;

function intArg(name: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined || !/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new EmulatorCliError(`Expected \`${name}\` to be a whole number from ${min} to ${max}. ${USAGE}`);
  }
  return Number(text);
}

/** `--port N`, `--port=N`, `--seed N`, `--latency MS`; a leading `emulator` (the subcommand) is skipped. */
export function parseEmulatorArgs(argv: readonly string[]): EmulatorCliArgs {
  const args: EmulatorCliArgs = { port: DEMO_PORT, seed: 1, latencyMs: 0 };
  const rest = argv[0] === 'emulator' ? argv.slice(1) : [...argv];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const value = (): string | undefined => (eq < 0 ? rest[++i] : arg.slice(eq + 1));
    if (flag === '--port') args.port = intArg('--port', value(), 0, 65535);
    else if (flag === '--seed') args.seed = intArg('--seed', value(), 0, 2 ** 32 - 1);
    else if (flag === '--latency') args.latencyMs = intArg('--latency', value(), 0, 60_000);
    else if (flag === '--help' || flag === '-h') args.help = true;
    else throw new EmulatorCliError(`Unknown argument \`${arg}\`. ${USAGE}`);
  }
  return args;
}

/**
 * The demo world, for `oms-janitor emulator` and `npm start` alike: two projects of one account (tasks, task groups
 * with member tasks, sync tasks) and a third project in a second account whose token is in Secrets Manager.
 */
export function demoEmulatorOptions(nowMs: number): EmulatorOptions {
  return {
    projects: { ...demoProjects(nowMs), [DEMO_OTHER_ACCOUNT.projectId]: demoOtherAccountTasks(nowMs) },
    taskGroups: demoTaskGroups(nowMs),
    syncTasks: demoSyncTasks(nowMs),
    ...demoAccounts(DEMO_TOKEN),
    // The demo's task group that is still being created moves on to monitoring half a minute after the start, so a
    // purge waits it out and then stops and deletes it (a real one may take much longer).
    createDelayMs: 30_000,
  };
}

/**
 * `oms-janitor emulator`: the emulator with demo data (tasks, task groups, sync tasks) and the static token
 * 'demo-token', until SIGINT or SIGTERM.
 * Resolves once it has closed.
 */
export async function runEmulatorCli(argv: string[]): Promise<void> {
  const args = parseEmulatorArgs(argv);
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const nowMs = Date.now();
  const emu = await startEmulator({
    port: args.port,
    seed: args.seed,
    ...demoEmulatorOptions(nowMs),
    faults: args.latencyMs > 0 ? { latencyMs: args.latencyMs } : {},
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new EmulatorCliError(`port ${args.port} is in use (another emulator?); choose one with --port N, or --port 0 for any free port`);
    }
    throw error;
  });
  const lines = [
    `OMS emulator (OMS, IAM, Secrets Manager and SNS) listening on ${emu.url}`,
    `  token:    ${DEMO_TOKEN}   (send as X-Auth-Token)`,
    ...Object.entries(DEMO_PROJECTS).map(([label, id]) => `  project:  ${id}  (${label})`),
    `  project:  ${DEMO_OTHER_ACCOUNT.projectId}  (another account: its token is Secrets Manager secret ${DEMO_OTHER_ACCOUNT.secretId})`,
    `  try:      curl -H 'X-Auth-Token: ${DEMO_TOKEN}' '${emu.url}/v2/${DEMO_PROJECTS.beijing4}/tasks?limit=5'`,
    `  janitor:  OMS_AUTH_TOKEN=${DEMO_TOKEN} npx oms-janitor plan --policy policies/example.yaml`,
    ...(emu.url.endsWith(`:${DEMO_PORT}`) ? [] : [`            (point the policy's targets at endpoint ${emu.url})`]),
    `  accounts: AWS_ENDPOINT_URL_SECRETS_MANAGER=${emu.url} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \\`,
    `            OMS_AUTH_TOKEN=${DEMO_TOKEN} npx oms-janitor plan --policy policies/example-accounts.yaml`,
    '  Ctrl-C to stop.',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await emu.close();
  process.stderr.write('OMS emulator stopped.\n');
}
