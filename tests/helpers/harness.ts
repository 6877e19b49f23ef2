import { PassThrough } from 'node:stream';
import { startEmulator, type Emulator, type EmulatorOptions, type EmuTask } from '../../emulator/index.js';
import { tokenAuthenticator, type Authenticator } from '../../lib/auth/types.js';
import type { RetryPolicy } from '../../lib/http/retry-policy.js';
import { jsonLinesLog } from '../../lib/log/json-lines.js';
import { Redactor } from '../../lib/log/redact.js';
import { parsePolicy } from '../../lib/policy/load.js';
import type { Policy } from '../../lib/policy/types.js';
import { runPurge, type EngineDeps, type PurgeRequest } from '../../lib/purge/engine.js';
import { createRunClient } from '../../lib/purge/runtime.js';
import { main, type CliIo } from '../../bin/cli.js';

export const TOKEN = 'test-token-0123456789';
export const PROJECT = '2c0689c860ad4728a497c91ec0844383';
export const PROJECT_B = '5d1c1e2f3a4b4c5d8e9f0a1b2c3d4e5f';
export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** Fast retries for tests: same policy shape as production, shorter waits. */
export const FAST_RETRY: RetryPolicy = { attempts: 10, attemptTimeoutMs: 2000, baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 1500 };

/** A task of the emulator: id, status, age in ms (start_time = now - age, total_time 0 unless given). */
export function task(id: string, status: number, ageMs: number, extra: Partial<EmuTask> = {}): EmuTask {
  return { id, name: `task-${id}`, status, start_time: Date.now() - ageMs, total_time: 0, ...extra };
}

export async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ tokens: [TOKEN], stopDelayMs: 30, ...options });
}

/** Emulator options that accept these credentials: a static token, an AK/SK pair, and IAM user acme/janitor. */
export function acceptingCredentials(s: { token: string; ak: string; sk: string; password: string }): EmulatorOptions {
  return {
    tokens: [s.token],
    akskCredentials: [{ ak: s.ak, sk: s.sk }],
    users: [{ domain: 'acme', username: 'janitor', password: s.password }],
  };
}

/** Points the AWS SDK of this process at the emulator's Secrets Manager (the SDK reads these when a client is built). */
export function useLoopbackSecretsManager(emu: Emulator): void {
  Object.assign(process.env, { AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
}

/** A policy validated by the real loader, pointed at the emulator. `body` is YAML after `targets:`. */
export function policy(emu: Emulator, yamlRest: string, projects: Record<string, string> = { main: PROJECT }): Policy {
  return parsePolicy(policyText(emu, yamlRest, projects), 'test-policy');
}

export function policyText(emu: Emulator, yamlRest: string, projects: Record<string, string> = { main: PROJECT }): string {
  const targets = Object.entries(projects)
    .map(([name, id]) => `  - { name: ${name}, projectId: ${id}, region: cn-north-4, endpoint: "${emu.url}" }`)
    .join('\n');
  return `version: 1\ntargets:\n${targets}\n${yamlRest}`;
}

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

/** The real JSON-lines log, captured: `lines` parsed, `text` raw (for "no secret appears" checks). */
export function capturedLog(redactor = new Redactor()) {
  const raw: string[] = [];
  const log = jsonLinesLog((line) => raw.push(line), { redactor, level: 'DEBUG' });
  return {
    log,
    redactor,
    get text() {
      return raw.join('');
    },
    get lines(): LogLine[] {
      return raw.map((line) => JSON.parse(line) as LogLine);
    },
  };
}

/** Runs the real engine with a token, the real HTTP wrapper and OMS client against the emulator. */
export async function runEngine(
  p: Policy,
  request: Partial<PurgeRequest> = {},
  deps: Partial<EngineDeps> = {},
  auth: Authenticator = tokenAuthenticator(TOKEN),
  retry: RetryPolicy = FAST_RETRY,
) {
  const captured = capturedLog();
  const { oms, counters } = createRunClient(p, auth, { retry });
  const summary = await runPurge({ policy: p, dryRun: false, ...request }, { oms, log: captured.log, pollIntervalMs: 20, waitIntervalMs: 50, ...deps });
  return { summary, logs: captured, counters };
}

/** Runs the CLI's `main` in-process with captured stdout/stderr. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const io: CliIo = { env: { ...env }, stdout, stderr };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

export function deletedIds(emu: Emulator, project = PROJECT): string[] {
  return [...(emu.stats.deleted[project] ?? [])].sort();
}
