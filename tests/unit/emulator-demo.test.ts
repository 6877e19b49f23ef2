import { parseEmulatorArgs } from '../../emulator/cli.js';
import { DEMO_PORT, DEMO_PROJECTS, EmulatorCliError, demoProjects, demoTaskGroups } from '../../emulator/index.js';
import type { EmuTask } from '../../emulator/index.js';
import { taskJson } from '../../emulator/task-json.js';

const NOW = Date.UTC(2026, 10, 3, 12, 0, 0);
const DAY = 86_400_000;

describe('demoProjects', () => {
  const projects = demoProjects(NOW);
  const all: EmuTask[] = Object.values(projects).flat();

  it('is deterministic for a given clock, with the two exported projects', () => {
    expect(demoProjects(NOW)).toEqual(projects);
    expect(Object.keys(projects).sort()).toEqual(Object.values(DEMO_PROJECTS).sort());
    for (const tasks of Object.values(projects)) expect(tasks.length).toBeGreaterThanOrEqual(40);
  });

  it('has unique digit ids, 15 digits mostly, a few above 2^53', () => {
    const ids = all.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[1-9][0-9]{14,18}$/.test(id))).toBe(true);
    expect(ids.filter((id) => BigInt(id) > 2n ** 53n).length).toBeGreaterThanOrEqual(2);
  });

  it('mixes statuses, ages up to 60 days, group and sync tasks, and stuck migrations', () => {
    const statuses = new Set(all.map((t) => t.status));
    for (const s of [1, 2, 3, 4, 5]) expect(statuses.has(s)).toBe(true);
    const ages = all.map((t) => NOW - (t.start_time ?? 0) - (t.total_time ?? 0));
    expect(Math.max(...ages)).toBeLessThanOrEqual(61 * DAY);
    expect(Math.min(...ages)).toBeLessThan(DAY);
    expect(all.some((t) => t.group_type === 'GROUP_TASK') && all.some((t) => t.group_type === 'SYNC_TASK')).toBe(true);
    for (const tasks of Object.values(projects)) {
      expect(tasks.filter((t) => t.status === 2 && NOW - (t.start_time ?? NOW) > 2 * DAY).length).toBeGreaterThanOrEqual(2);
      // stuck ones OMS deletes as they are (waiting, retrying), so the demo shows both paths of a stopFirst rule
      for (const status of [1, 6]) expect(tasks.some((t) => t.status === status && NOW - (t.start_time ?? NOW) - (t.total_time ?? 0) > 2 * DAY)).toBe(true);
      expect(tasks.some((t) => t.name === 'keep-golden-copy')).toBe(true);
    }
    expect(all.some((t) => /^nightly-sync-\d{4}-\d\d-\d\d$/.test(t.name ?? ''))).toBe(true);
    expect(all.filter((t) => t.status === 4).every((t) => typeof (t.error_reason as { error_code?: string }).error_code === 'string')).toBe(true);
  });

  it('has task objects of about 1 KB', () => {
    const sizes = all.map((t) => taskJson(t, undefined).length);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(mean).toBeGreaterThan(700);
    expect(mean).toBeLessThan(1500);
  });
});

describe('demoTaskGroups', () => {
  it('has stuck groups days old in each state a stopFirst rule handles differently: waiting, monitoring, creating', () => {
    const groups = Object.values(demoTaskGroups(NOW)).flat();
    for (const status of [0, 1, 2]) {
      expect(groups.some((g) => g.status === status && NOW - (g.start_time ?? NOW) - (g.total_time ?? 0) > 2 * DAY)).toBe(true);
    }
  });
});

describe('parseEmulatorArgs', () => {
  it('reads --port, --seed and --latency, skipping the subcommand', () => {
    expect(parseEmulatorArgs([])).toEqual({ port: DEMO_PORT, seed: 1, latencyMs: 0, faults: {}, failDeletes: [] });
    expect(parseEmulatorArgs(['emulator', '--port', '8080', '--seed=9', '--latency', '20'])).toEqual({ port: 8080, seed: 9, latencyMs: 20, faults: {}, failDeletes: [] });
  });

  it('reads the drills: --fault KIND=SHARE,…, --fail-deletes ID,…, --token-max-uses N, --offset-cap N', () => {
    expect(parseEmulatorArgs(['--fault', '429=0.3,503=0.1', '--fault=reset=0.05', '--fail-deletes', '1,2', '--fail-deletes=g-1', '--token-max-uses', '3', '--offset-cap', '10000'])).toMatchObject({
      faults: { rate429: 0.3, rate503: 0.1, rateReset: 0.05 },
      failDeletes: ['1', '2', 'g-1'],
      tokenMaxUses: 3,
      offsetCap: 10000,
    });
    expect(() => parseEmulatorArgs(['--fault', '418=0.5'])).toThrow(/`--fault`.*got "418=0\.5"/);
    expect(() => parseEmulatorArgs(['--fault', '429=2'])).toThrow(/`--fault`/);
    expect(() => parseEmulatorArgs(['--fail-deletes', ''])).toThrow(/`--fail-deletes`/);
  });

  it('names the bad argument', () => {
    expect(() => parseEmulatorArgs(['--port', 'x'])).toThrow(EmulatorCliError);
    expect(() => parseEmulatorArgs(['--port', '70000'])).toThrow(/`--port`/);
    expect(() => parseEmulatorArgs(['--verbose'])).toThrow(/`--verbose`/);
  });
});
