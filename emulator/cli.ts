import { DEMO_OTHER_ACCOUNT, demoAccounts, demoOtherAccountTasks } from './demo-accounts.js';
import { DEMO_PROJECTS, demoProjects } from './demo-data.js';
import { demoSyncTasks, demoTaskGroups } from './demo-kinds.js';
import { startEmulator } from './server.js';
import type { Emulator, EmulatorOptions, FaultOptions } from './types.js';
import { InvalidInput } from '../lib/errors.js';

export const DEMO_TOKEN = 'demo-token';
/** policies/example.yaml points its targets here, so the example works against `oms-janitor emulator` as is. */
export const DEMO_PORT = 8790;

/** Bad command-line input; the CLI entry maps it to exit status 2. */
export class EmulatorCliError extends InvalidInput {
  override readonly name = 'EmulatorCliError';
}

export interface EmulatorCliArgs {
  port: number;
  seed: number;
  latencyMs: number;
  /** `--fault 429=0.3,503=0.1`: shares of OMS requests answered with that fault. */
  faults: FaultOptions;
  /** `--fail-deletes ID,…`: these ids (of any kind, in every demo project) answer every DELETE with 403 APIGW.0306. */
  failDeletes: string[];
  /** `--token-max-uses N`: IAM-issued tokens answer 401 APIGW.0307 after N OMS calls. */
  tokenMaxUses?: number;
  /** `--offset-cap N`: list offsets above N answer 400 OMS.0064 (a region's offset cap). */
  offsetCap?: number;
  help?: boolean;
}

const USAGE = `usage: oms-janitor emulator [--port N (default ${DEMO_PORT}; 0 = any free port)] [--seed N] [--latency MS]
         [--fault KIND=SHARE,... (KIND: ${Object.keys({ '429': 0, '503': 0, '500': 0, reset: 0, stall: 0, html: 0, badjson: 0 }).join(', ')}; SHARE 0..1)]
         [--fail-deletes ID,...] [--token-max-uses N] [--offset-cap N]`;

/** `--fault` kinds and the FaultOptions share each sets. */
const FAULT_KINDS = {
  '429': 'rate429',
  '503': 'rate503',
  '500': 'rate500',
  reset: 'rateReset',
  stall: 'rateStall',
  html: 'rateHtml',
  badjson: 'rateBadJson',
} as const satisfies Record<string, keyof FaultOptions>;

function faultsArg(text: string | undefined): FaultOptions {
  const faults: FaultOptions = {};
  for (const part of (text ?? '').split(',')) {
    const [kind, share] = part.split('=');
    const key = Object.hasOwn(FAULT_KINDS, kind ?? '') ? FAULT_KINDS[kind as keyof typeof FAULT_KINDS] : undefined;
    const value = Number(share);
    if (key === undefined || share === undefined || share === '' || !(value >= 0 && value <= 1)) {
      throw new EmulatorCliError(`Expected \`--fault\` to be KIND=SHARE pairs such as 429=0.3,503=0.1 (KIND: ${Object.keys(FAULT_KINDS).join(', ')}; SHARE from 0 to 1), got ${JSON.stringify(part)}. ${USAGE}`);
    }
    faults[key] = value;
  }
  return faults;
}

function idsArg(text: string | undefined): string[] {
  const ids = (text ?? '').split(',').filter((id) => id !== '');
  if (ids.length === 0) throw new EmulatorCliError(`Expected \`--fail-deletes\` to be ids separated by commas. ${USAGE}`);
  return ids;
}

function intArg(name: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined || !/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new EmulatorCliError(`Expected \`${name}\` to be a whole number from ${min} to ${max}. ${USAGE}`);
  }
  return Number(text);
}

/** `--port N`, `--port=N`, `--seed N`, `--latency MS`; a leading `emulator` (the subcommand) is skipped. */
export function parseEmulatorArgs(argv: readonly string[]): EmulatorCliArgs {
  const args: EmulatorCliArgs = { port: DEMO_PORT, seed: 1, latencyMs: 0, faults: {}, failDeletes: [] };
  const rest = argv[0] === 'emulator' ? argv.slice(1) : [...argv];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const value = (): string | undefined => (eq < 0 ? rest[++i] : arg.slice(eq + 1));
    if (flag === '--port') args.port = intArg('--port', value(), 0, 65535);
    else if (flag === '--seed') args.seed = intArg('--seed', value(), 0, 2 ** 32 - 1);
    else if (flag === '--latency') args.latencyMs = intArg('--latency', value(), 0, 60_000);
    else if (flag === '--fault') args.faults = { ...args.faults, ...faultsArg(value()) };
    else if (flag === '--fail-deletes') args.failDeletes.push(...idsArg(value()));
    else if (flag === '--token-max-uses') args.tokenMaxUses = intArg('--token-max-uses', value(), 1, 1_000_000);
    else if (flag === '--offset-cap') args.offsetCap = intArg('--offset-cap', value(), 0, 2 ** 31 - 1);
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
 * The demo emulator with the drills the command line asks for (faults, failing deletes, short-lived IAM tokens, an
 * offset cap), so that an operator can rehearse failures from the shell (docs/operations.md).
 */
export async function startDemoEmulator(args: EmulatorCliArgs, nowMs: number): Promise<Emulator> {
  const emu = await startEmulator({
    port: args.port,
    seed: args.seed,
    ...demoEmulatorOptions(nowMs),
    faults: { ...args.faults, ...(args.latencyMs > 0 ? { latencyMs: args.latencyMs } : {}) },
    ...(args.tokenMaxUses !== undefined ? { iamTokenMaxUses: args.tokenMaxUses } : {}),
    ...(args.offsetCap !== undefined ? { offsetCap: args.offsetCap } : {}),
  });
  const projects = [...Object.values(DEMO_PROJECTS), DEMO_OTHER_ACCOUNT.projectId];
  for (const id of args.failDeletes) {
    for (const project of projects) {
      for (const kind of ['task', 'taskGroup', 'syncTask'] as const) {
        emu.setTaskFault(project, id, { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'The API access is denied (drill: --fail-deletes).' }, kind);
      }
    }
  }
  return emu;
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
  const emu = await startDemoEmulator(args, Date.now()).catch((error: unknown) => {
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
