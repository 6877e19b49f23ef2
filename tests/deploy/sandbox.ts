import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root (tests/deploy/ is two levels down). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVERLESS_BIN = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');

/** What `serverless package` and `invoke local` read: the service file, the esbuild plugins, the sources it bundles, the policies. */
const SERVICE_FILES = ['serverless.yml', 'package.json', 'tsconfig.json', 'build', 'functions', 'lib', 'policies'];

/**
 * A private copy of the service with node_modules linked. serverless-esbuild builds in `<service>/.esbuild`, so two
 * runs in one directory (parallel stages, the two deploy test files in parallel jest workers, a colleague's
 * `npx serverless package`) would overwrite each other's build. Each run gets its own directory instead.
 */
export async function sandbox(options: { realLookingIds?: boolean } = {}): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'oms-janitor-sls-'));
  await Promise.all(SERVICE_FILES.map((name) => cp(join(ROOT, name), join(dir, name), { recursive: true })));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // Packaging checks the stage's policy and refuses placeholder project ids (build/validate-policy.cjs): a sandbox
  // that packages gets real-looking ids in its copies, as a team puts its real ones in before it deploys.
  if (options.realLookingIds) {
    for (const name of await readdir(join(dir, 'policies'))) {
      const file = join(dir, 'policies', name);
      await writeFile(file, withRealLookingIds(await readFile(file, 'utf8')));
    }
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Placeholder project ids as the shipped policies hold them (`00000000000000000000000000000de1`): the policy loader
 * refuses an id with 16 or more leading zeros, so a stage deployed without its real ids fails loudly.
 */
export const PLACEHOLDER_ID = /\b0{16,}[0-9a-f]*\b/g;

/** The policy text with each placeholder id replaced by a real-looking one: 32 hex characters, stable per placeholder. */
export function withRealLookingIds(text: string): string {
  return text.replace(PLACEHOLDER_ID, (id) => createHash('sha256').update(id).digest('hex').slice(0, 32));
}

/**
 * Offline and quiet: no telemetry, no notifications, no update checks. Nothing from the developer's AWS setup: dummy
 * keys, no AWS_PROFILE (the child's environment is built from scratch), and ~/.aws/config and ~/.aws/credentials
 * replaced by /dev/null, so a profile's region, role or credential_process cannot leak into a test.
 */
export const OFFLINE_ENV: Record<string, string> = {
  SLS_TELEMETRY_DISABLED: '1',
  SLS_TRACKING_DISABLED: '1',
  SLS_NOTIFICATIONS_MODE: 'off',
  SLS_DEPRECATION_DISABLE: '*',
  CI: '1',
  FORCE_COLOR: '0',
  NO_COLOR: '1',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
};

/**
 * A child's time limit: below the deploy tests' jest timeouts (120 s and more), so a hung osls is killed by us and
 * its output shown, rather than jest timing the test out with nothing to read.
 */
export const SERVERLESS_TIMEOUT_MS = 90_000;

export interface SlsResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `serverless <args>` (osls) in `cwd`; never throws on a non-zero exit (the caller asserts it). */
export async function serverless(cwd: string, args: string[], env: Record<string, string> = {}): Promise<SlsResult> {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, ...OFFLINE_ENV, ...env };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SERVERLESS_BIN, ...args], {
      cwd,
      env: childEnv,
      maxBuffer: 64 * 1024 * 1024,
      timeout: SERVERLESS_TIMEOUT_MS,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string | null; killed?: boolean; signal?: string | null; stdout?: string; stderr?: string; message: string };
    if (typeof e.code === 'number') return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    if (e.killed) {
      // Timed out: say so, with everything osls printed until then.
      throw new Error(
        `serverless ${args.join(' ')} killed (${e.signal ?? 'timeout'}) after ${SERVERLESS_TIMEOUT_MS / 1000} s\n--- stdout ---\n${e.stdout ?? ''}\n--- stderr ---\n${e.stderr ?? ''}`,
      );
    }
    throw error; // spawn failure, not an exit status
  }
}
