/**
 * `npm start`: a newcomer's first minute. Starts the emulator with demo data (tasks, task groups, sync tasks, two
 * accounts), shows the plan of policies/example.yaml, runs a real purge against the emulator (archived to
 * demo-archive/, then shown with `archive list` and `archive show`), shows that a second
 * run finds nothing left, then runs policies/example-accounts.yaml across two accounts, and stops. Everything goes
 * through the real CLI (`main`), so what it prints is what `npx oms-janitor` prints.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_OTHER_ACCOUNT, DEMO_PORT, DEMO_TOKEN, demoEmulatorOptions, startEmulator } from '../emulator/index.js';
import { listRuns } from '../lib/archive/read.js';
import { openArchiveStore } from '../lib/archive/store.js';
import { main, type CliIo } from './cli.js';

const EXAMPLE = 'policies/example.yaml';
/** Where the demo's real purge archives what it deletes (git-ignored; each `npm start` adds its run). */
const ARCHIVE = 'demo-archive';
const ACCOUNTS = 'policies/example-accounts.yaml';

// The group being created moves on 3 s after the start: the plan shows it waited for, the purge waits it out, then
// stops and deletes it.
const emu = await startEmulator({ ...demoEmulatorOptions(Date.now()), createDelayMs: 3000, faults: { latencyMs: 5 } });
const dir = mkdtempSync(join(tmpdir(), 'oms-janitor-demo-'));
// The examples point at the emulator's default port; this run uses whatever port was free.
const copy = (file: string) => {
  const target = join(dir, file.replace('policies/', ''));
  writeFileSync(target, readFileSync(file, 'utf8').replaceAll(`http://127.0.0.1:${DEMO_PORT}`, emu.url));
  return target;
};
const policyFile = copy(EXAMPLE);
const accountsFile = copy(ACCOUNTS);
// The second account's token is a Secrets Manager secret, served by the emulator: point this process's AWS SDK at
// it (dummy AWS credentials; nothing leaves loopback).
// The SDK's notice that its 2027 releases need Node 22 is for whoever runs Node 20, not news in a demo.
Object.assign(process.env, {
  AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'demo',
  AWS_SECRET_ACCESS_KEY: 'demo',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

// The CLI sees only the demo's own environment: a user's real CLOUD_SDK_AK/SK, OMS_AUTH_TOKEN, secret id or allowed
// hosts must never reach the emulator (or steer the demo elsewhere).
const io: CliIo = { env: demoEnv(), stdout: process.stdout, stderr: process.stderr };
/** The demo token and nothing else the CLI reads credentials or hosts from. */
function demoEnv(): NodeJS.ProcessEnv {
  return { OMS_AUTH_TOKEN: DEMO_TOKEN };
}

const bold = process.stdout.isTTY ? (text: string) => `\x1b[1m${text}\x1b[0m` : (text: string) => text;
const say = (text: string) => process.stdout.write(`\n${bold(text)}\n\n`);
let code = 0;
try {
  say(`OMS Task Janitor demo: an OMS emulator with three demo projects in two accounts is running at ${emu.url}.`);
  process.stdout.write(`The retention policy is ${EXAMPLE}. Nothing here talks to Huawei Cloud.\n`);

  say(`1. The plan: what the policy would delete (oms-janitor plan --policy ${EXAMPLE})`);
  code = await main(['plan', '--policy', policyFile, '--log-level', 'WARN'], io);

  say(
    `2. A real purge (oms-janitor purge --policy ${EXAMPLE} --no-dry-run --archive ${ARCHIVE}): a migrating task is ` +
      'paused first, a waiting or retrying one deleted as it is, a group still being created waited out; task groups ' +
      'and sync tasks go too. Before the first change, the run archives what it will delete, each item as OMS listed it',
  );
  code ||= await main(['purge', '--policy', policyFile, '--no-dry-run', '--archive', ARCHIVE, '--log-level', 'WARN'], io);
  const requests = emu.stats.calls;
  const kinds = (route: string) => (requests[route] ?? 0) + (requests[`taskGroup.${route}`] ?? 0) + (requests[`syncTask.${route}`] ?? 0);
  process.stdout.write(
    `\nThe emulator saw ${kinds('list')} list, ${kinds('stop')} stop, ${kinds('show')} show and ` +
      `${kinds('delete')} delete requests (tasks, task groups and sync tasks), at most ${emu.stats.maxInFlight} in flight.\n`,
  );

  // The run just archived: the newest of the demo's archive (earlier `npm start` runs are there too).
  const [latest] = await listRuns(openArchiveStore(ARCHIVE));
  say(`3. What was deleted, and what it said (oms-janitor archive list --archive ${ARCHIVE}, then archive show RUN_ID)`);
  code ||= await main(['archive', 'list', '--archive', ARCHIVE, '--since', '1d'], io);
  process.stdout.write('\n');
  if (latest) code ||= await main(['archive', 'show', '--archive', ARCHIVE, latest.runId], io);
  process.stdout.write(`\nEach item's full record, as OMS listed it, is in \`oms-janitor archive show --archive ${ARCHIVE} RUN_ID --json\`.\n`);

  say('4. Run the plan again: the listing is the source of truth, so a second run converges on nothing to do');
  code ||= await main(['plan', '--policy', policyFile, '--log-level', 'WARN'], io);

  say(`5. Two accounts in one policy (${ACCOUNTS}): target acme-eu has its own credentials, read from Secrets Manager`);
  code ||= await main(['purge', '--policy', accountsFile, '--no-dry-run', '--log-level', 'WARN'], io);
  process.stdout.write(
    `\nAccount ${DEMO_OTHER_ACCOUNT.name}'s token was read from secret ${DEMO_OTHER_ACCOUNT.secretId}; the emulator saw ` +
      `${emu.stats.crossAccount} request(s) carrying one account's credentials to the other's project.\n`,
  );

  say('Next: `npx oms-janitor --help`, the README (policy format, credentials), docs/operations.md (deployment).');
} finally {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = code;
