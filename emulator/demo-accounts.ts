/**
 * The demo's second Huawei account: one project of its own, reachable only with that account's token, which the
 * janitor reads from the emulator's Secrets Manager (a target's `credentials.secretId`, policies/example-accounts.yaml).
 * The first account (the demo token) owns the two demo projects; the emulator refuses either token on the other's
 * projects and counts any attempt (stats.crossAccount).
 */
import { DEMO_PROJECTS } from './demo-projects.js';
import { DAY_MS, HOUR_MS } from './demo-projects.js';
import type { EmuAccount, EmuTask } from './types.js';

export const DEMO_OTHER_ACCOUNT = {
  name: 'acme-eu',
  projectId: '7e3a9c1b5d2f48e6a0b4c8d2e6f1a3b5',
  token: 'demo-token-acme-eu',
  secretId: 'oms-janitor/demo/acme-eu',
} as const;

/** The other account's tasks: a few finished migrations of a smaller team, old and new. */
export function demoOtherAccountTasks(nowMs: number): EmuTask[] {
  const task = (n: number, name: string, status: number, ageMs: number, totalMs: number): EmuTask => ({
    id: String(301122334455660n + BigInt(n)),
    name,
    status,
    start_time: nowMs - ageMs,
    total_time: totalMs,
    group_type: 'NORMAL_TASK',
    src_node: { cloud_type: 'AWS', region: 'eu-central-1', bucket: 'acme-eu-exports' },
    dst_node: { region: 'eu-west-101', bucket: 'obs-acme-eu' },
  });
  return [
    task(1, 'eu-nightly-0901', 5, 45 * DAY_MS, 2 * HOUR_MS),
    task(2, 'eu-nightly-0915', 5, 30 * DAY_MS, 3 * HOUR_MS),
    task(3, 'eu-adhoc-reports', 4, 40 * DAY_MS, HOUR_MS),
    task(4, 'eu-nightly-1128', 5, 1 * DAY_MS, 2 * HOUR_MS),
    task(5, 'eu-backfill-2024', 2, 6 * HOUR_MS, 0),
  ];
}

/** The emulator options that make two accounts: who owns which project, and the second account's secret. */
export function demoAccounts(firstAccountToken: string): { accounts: EmuAccount[]; tokens: string[]; secrets: Record<string, string> } {
  return {
    accounts: [
      { name: 'acme', projects: Object.values(DEMO_PROJECTS), tokens: [firstAccountToken] },
      { name: DEMO_OTHER_ACCOUNT.name, projects: [DEMO_OTHER_ACCOUNT.projectId], tokens: [DEMO_OTHER_ACCOUNT.token] },
    ],
    tokens: [firstAccountToken, DEMO_OTHER_ACCOUNT.token],
    secrets: { [DEMO_OTHER_ACCOUNT.secretId]: JSON.stringify({ type: 'token', token: DEMO_OTHER_ACCOUNT.token }) },
  };
}
