/**
 * `npm start` as a newcomer runs it, in its own process: every step succeeds, and the machine's own Huawei
 * credentials (CLOUD_SDK_AK/SK, OMS_AUTH_TOKEN) never reach the demo's CLI, which uses the emulator's demo token.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

jest.setTimeout(60_000);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the demo (npm start)', () => {
  it('runs every step to exit 0, whatever Huawei credentials the machine has in its environment', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/demo.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', CLOUD_SDK_AK: 'MACHINE-AK-SHOULD-NOT-BE-USED', CLOUD_SDK_SK: 'MACHINE-SK', OMS_AUTH_TOKEN: 'machine-token' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect([code, out.includes('MACHINE-AK')]).toEqual([0, false]);
    // Each path of a stopFirst rule is shown: deleted as it is, paused first, waited out.
    expect(out).toMatch(/ waiting .* stuck-tasks +delete\n/);
    expect(out).toMatch(/ migrating .* stuck-tasks +pause, then delete\n/);
    expect(out).toMatch(/ executing .* stuck-groups +wait \(creating\)\n/);
    const run = /Run ([0-9a-f-]+): (\d+) deleted, 0 failed, 0 deferred\./.exec(out);
    expect(run).not.toBeNull();
    // The archive step shows that run: in the list, then every item it deleted, with its outcome.
    expect(out).toMatch(new RegExp(`${run![1]} +${run![2]} +0 +0`));
    expect(out).toMatch(new RegExp(`Run ${run![1]} \\(cli purge\\), started .*: ${run![2]} item\\(s\\) planned`));
    expect(out).toMatch(/ migrating +stuck-tasks +deleted/);
    expect(out).toMatch(/Nothing to delete\./);
  });
});
