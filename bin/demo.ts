/**
 * `npm start`: a newcomer's first minute. Starts the emulator with demo data, shows the plan of
 * policies/example.yaml, runs a real purge against the emulator, shows that a second run finds nothing left, stops.
 * Everything goes through the real CLI (`main`), so what it prints is what `npx oms-janitor` prints.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_PORT, DEMO_TOKEN, demoProjects, startEmulator } from '../emulator/index.js';
import { main, type CliIo } from './cli.js';

const EXAMPLE = 'policies/example.yaml';

const emu = await startEmulator({ projects: demoProjects(Date.now()), tokens: [DEMO_TOKEN], faults: { latencyMs: 5 } });
const dir = mkdtempSync(join(tmpdir(), 'oms-janitor-demo-'));
const policyFile = join(dir, 'example.yaml');
// The example points at the emulator's default port; this run uses whatever port was free.
writeFileSync(policyFile, readFileSync(EXAMPLE, 'utf8').replaceAll(`http://127.0.0.1:${DEMO_PORT}`, emu.url));

const io: CliIo = { env: { ...process.env, OMS_AUTH_TOKEN: DEMO_TOKEN }, stdout: process.stdout, stderr: process.stderr };
const bold = process.stdout.isTTY ? (text: string) => `\x1b[1m${text}\x1b[0m` : (text: string) => text;
const say = (text: string) => process.stdout.write(`\n${bold(text)}\n\n`);
let code = 0;
try {
  say(`OMS Task Janitor demo: an OMS emulator with two demo projects is running at ${emu.url}.`);
  process.stdout.write(`The retention policy is ${EXAMPLE}. Nothing here talks to Huawei Cloud.\n`);

  say(`1. The plan: what the policy would delete (oms-janitor plan --policy ${EXAMPLE})`);
  code = await main(['plan', '--policy', policyFile, '--log-level', 'WARN'], io);

  say(`2. A real purge (oms-janitor purge --policy ${EXAMPLE} --no-dry-run): stuck tasks are paused first`);
  code ||= await main(['purge', '--policy', policyFile, '--no-dry-run', '--log-level', 'WARN'], io);
  const requests = emu.stats.calls;
  process.stdout.write(
    `\nThe emulator saw ${requests.list ?? 0} list, ${requests.stop ?? 0} stop, ${requests.show ?? 0} show and ` +
      `${requests.delete ?? 0} delete requests, at most ${emu.stats.maxInFlight} in flight.\n`,
  );

  say('3. Run the plan again: the listing is the source of truth, so a second run converges on nothing to do');
  code ||= await main(['plan', '--policy', policyFile, '--log-level', 'WARN'], io);

  say('Next: `npx oms-janitor --help`, the README (policy format, credentials), docs/operations.md (deployment).');
} finally {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = code;
