import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The real CLI as a child process (`node bin/oms-janitor.js …`, which runs the compiled dist/: build it first with
 * `node build/build-cli.mjs`). The environment is only PATH plus `env`, so no credential of the machine running the
 * tests can be picked up ahead of the ones the test gives.
 */
export function spawnCli(args: string[], env: Record<string, string>): { child: ChildProcess; exit: Promise<CliExit> } {
  const child = spawn(process.execPath, ['bin/oms-janitor.js', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<CliExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exit };
}

/** Resolves once `condition()` holds, checking every few ms; rejects after `timeoutMs` saying what it waited for. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

/** The CLI's stderr as JSON lines (the log), skipping anything that is not one. */
export function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

let binDir: string | undefined;

/**
 * A command line as the CLI printed it (advice, hints), run by a POSIX shell in `cwd` with `oms-janitor` on PATH (the
 * real CLI, compiled), so that a test follows printed advice word for word. The environment is PATH plus `env`.
 */
export function inShell(command: string, cwd: string, env: Record<string, string>): Promise<CliExit> {
  if (binDir === undefined) {
    binDir = mkdtempSync(join(tmpdir(), 'janitor-bin-'));
    writeFileSync(join(binDir, 'oms-janitor'), `#!/bin/sh\nexec '${process.execPath}' '${join(ROOT, 'bin/oms-janitor.js')}' "$@"\n`);
    chmodSync(join(binDir, 'oms-janitor'), 0o755);
  }
  const child = spawn('/bin/sh', ['-c', command], { cwd, env: { PATH: `${binDir}:${process.env.PATH ?? ''}`, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise<CliExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
