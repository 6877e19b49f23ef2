import { afterEach, describe, expect, it } from '@jest/globals';
import type { Emulator } from '../../emulator/index.js';
import { akskAuthenticator } from '../../lib/auth/aksk.js';
import { DAY, PROJECT, PROJECT_B, deletedIds, emulator, policy, runEngine, task } from '../helpers/harness.js';

const PROJECT_C = '7a6b5c4d3e2f4a1b9c8d7e6f5a4b3c2d';
const RULE = `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n`;
const projects = { a: PROJECT, b: PROJECT_B, c: PROJECT_C };

describe('engine with AK/SK signing', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  function start() {
    return emulator({
      akskCredentials: [{ ak: 'AKJANITOR', sk: 'right-secret-key' }],
      projects: Object.fromEntries(Object.values(projects).map((id) => [id, [task('1', 4, 40 * DAY), task('2', 4, 40 * DAY)]])),
    });
  }

  it('signs every request of a multi-target purge; the emulator verifies each one', async () => {
    emu = await start();
    const { summary } = await runEngine(policy(emu, RULE, projects), {}, {}, akskAuthenticator({ ak: 'AKJANITOR', sk: 'right-secret-key' }));
    expect(summary.totals).toMatchObject({ deleted: 6, failed: 0 });
    expect(emu.stats.signedVerified).toBe(emu.stats.total);
    expect(emu.stats.signatureFailures).toBe(0);
  });

  it('a wrong SK costs one signature failure for the whole run, not one per target: the AK is never locked', async () => {
    emu = await start();
    const { summary } = await runEngine(policy(emu, RULE, projects), {}, {}, akskAuthenticator({ ak: 'AKJANITOR', sk: 'wrong-secret-key' }));
    expect(emu.stats.signatureFailures).toBe(1);
    expect(emu.stats.lockedAks).toEqual([]);
    expect(summary.targets.map((t) => t.error !== undefined)).toEqual([true, true, true]);
    expect(summary.targets.every((t) => t.deleted === 0)).toBe(true);
    for (const id of Object.values(projects)) expect(deletedIds(emu, id)).toEqual([]);
  });
});
