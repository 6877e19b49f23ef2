/**
 * bin/oms-janitor.js runs the commands that list (purge, plan, apply) with V8's heap capped, as the Lambda is
 * (docs/operations.md): in a child process, since V8 takes heap flags only when it starts. A user's own heap flags win.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startScriptServer } from '../helpers/script-server.js';
import { join } from 'node:path';
import { ROOT } from '../deploy/sandbox.js';

const PRELOAD = `--import ${join(ROOT, 'tests/helpers/print-heap-flags.mjs')}`;

function run(args: string[], nodeOptions = '') {
  const out = spawnSync(process.execPath, ['bin/oms-janitor.js', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, NODE_OPTIONS: `${PRELOAD} ${nodeOptions}`.trim() }, encoding: 'utf8' });
  const flags = out.stderr.split('\n').filter((line) => line.startsWith('HEAPFLAGS ')).map((line) => JSON.parse(line.split(' ')[1]!) as string[]);
  return { status: out.status, flags, stderr: out.stderr, stdout: out.stdout };
}

describe('the CLI caps V8 heap for the commands that list', () => {
  it.each(['purge', 'plan', 'apply'])('%s runs in a child with the old space at 512 MB, 4 MB semi-spaces and gc() exposed; its exit status is the child\'s', (command) => {
    const r = run([command]); // no --policy: a usage error, exit 2, from the child
    expect(r.flags).toEqual([[], ['--max-old-space-size=512', '--max-semi-space-size=4', '--expose-gc']]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--policy FILE is required/);
  });

  it('other commands run in one process', () => {
    expect(run(['--help']).flags).toEqual([[]]);
    expect(run(['validate']).flags).toEqual([[]]);
  });

  it("a user's own heap flags are kept, and no child is started", () => {
    const r = run(['plan'], '--max-old-space-size=3000'); // in NODE_OPTIONS (not in execArgv): one process
    expect(r.flags).toEqual([[]]);
    expect(r.status).toBe(2);
    // On node's own command line too, in either spelling (dashes or underscores), and --max-heap-size.
    for (const flag of ['--max-semi-space-size=8', '--max_old_space_size=3000', '--max-heap-size=3000']) {
      const given = spawnSync(process.execPath, [flag, 'bin/oms-janitor.js', 'plan'], { cwd: ROOT, env: { PATH: process.env.PATH, NODE_OPTIONS: PRELOAD }, encoding: 'utf8' });
      expect(given.stderr.split('\n').filter((line) => line.startsWith('HEAPFLAGS ')).length).toBe(1);
      expect(given.status).toBe(2);
    }
    expect(run(['plan'], '--max_old_space_size=3000').flags).toEqual([[]]);
  });

  it('the run ends with the process the user started, even when that one is killed outright (kill -9)', async () => {
    const server = await startScriptServer([{ hang: true }]); // the listing never answers: the run waits
    try {
      const dir = mkdtempSync(join(tmpdir(), 'janitor-heap-'));
      writeFileSync(join(dir, 'p.yaml'), `version: 1\ntargets: [{ name: t, projectId: 2c0689c860ad4728a497c91ec08000aa, region: cn-north-4, endpoint: "${server.url}" }]\nrules: [{ name: r, statuses: [failed], olderThan: 1d }]\n`);
      const parent = spawn(process.execPath, ['bin/oms-janitor.js', 'plan', '--policy', join(dir, 'p.yaml')], { cwd: ROOT, env: { PATH: process.env.PATH, NODE_OPTIONS: PRELOAD, OMS_AUTH_TOKEN: 'token-of-the-test' } });
      let stderr = '';
      parent.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      while (server.arrivals.length === 0) await new Promise((r) => setTimeout(r, 20));
      const childPid = Number(stderr.split('\n').find((line) => line.startsWith('HEAPFLAGS ["--max'))!.split(' ')[2]);
      const alive = () => {
        try {
          process.kill(childPid, 0);
          return true;
        } catch {
          return false;
        }
      };
      expect(alive()).toBe(true);
      parent.kill('SIGKILL');
      for (let i = 0; i < 100 && alive(); i += 1) await new Promise((r) => setTimeout(r, 20));
      expect(alive()).toBe(false);
    } finally {
      await server.close();
    }
  });
});
