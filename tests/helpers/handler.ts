import { jest } from '@jest/globals';
import type { Context } from 'aws-lambda';
import type { Emulator } from '../../emulator/index.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { useLoopbackSecretsManager } from './harness.js';

export type Handler = (event: unknown, context: Context) => Promise<RunSummary>;

/**
 * The real Lambda handler of this test file's module registry, cold-started with `env` (POLICY_FILE, STAGE, …) and
 * the emulator as Secrets Manager; its stdout (log lines, EMF) captured. `restore` puts stdout and the environment
 * back (call it in afterAll).
 */
export async function startHandler(emu: Emulator, env: Record<string, string>): Promise<{ handler: Handler; stdout: string[]; restore: () => void }> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  useLoopbackSecretsManager(emu);
  const stdout: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => stdout.push(String(chunk)) > 0) as never);
  const { handler } = (await import('../../functions/purge.js')) as { handler: Handler };
  return {
    handler,
    stdout,
    restore: () => {
      spy.mockRestore();
      process.env = saved;
    },
  };
}

/** A Lambda context with this request id, 10 minutes left, and the prod function's ARN. */
export function lambdaContext(id: string, remainingMs: () => number = () => 600_000): Context {
  return {
    awsRequestId: id,
    functionName: 'oms-task-janitor-prod-purge',
    invokedFunctionArn: 'arn:aws:lambda:ap-southeast-1:123456789012:function:oms-task-janitor-prod-purge',
    getRemainingTimeInMillis: remainingMs,
  } as unknown as Context;
}
