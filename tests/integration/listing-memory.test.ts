import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../deploy/sandbox.js';

describe('what a listing keeps per task', () => {
  it('is a small record that owns its storage: no page text kept alive (retained heap, measured with --expose-gc)', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'tests/helpers/retained-heap.ts'), '20000'], { cwd: ROOT }, (error, out) =>
        error ? reject(error) : resolve(out),
      );
      child.stdin?.end();
    });
    const { tasks, bytesPerTask } = JSON.parse(stdout) as { tasks: number; bytesPerTask: number };
    expect(tasks).toBe(20_000);
    // A record (id, name, status, times, group) with its Map entry is about 200-250 bytes; a record holding a
    // slice of its ~100 KB page keeps about 1 KB per task (the page shared by its 100 tasks).
    expect(bytesPerTask).toBeLessThan(400);
  }, 60_000);
});
