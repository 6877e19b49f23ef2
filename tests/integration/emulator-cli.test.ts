import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEMO_PROJECTS } from '../../emulator/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('emulator CLI', () => {
  it('prints the URL and token, serves the demo data, and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/main.ts', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
        child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
      });
      expect(stderr).toContain('demo-token');
      expect(stderr).toContain('OMS_AUTH_TOKEN=demo-token npx oms-janitor plan --policy policies/example.yaml');
      const res = await fetch(`${url}/v2/${DEMO_PROJECTS.beijing4}/tasks?limit=1`, { headers: { 'X-Auth-Token': 'demo-token' } });
      const body = (await res.json()) as { count: number };
      expect(body.count).toBeGreaterThanOrEqual(40);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toContain('stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
