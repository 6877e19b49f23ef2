/**
 * `npm run soak` (on purpose, never in the test suite): the chaos suite of tests/integration/chaos.test.ts at soak
 * size, every scenario under many seeds, with the same scenarios and invariants (tests/helpers/chaos*.ts). One line
 * per run, a total line; exit status 1 when any invariant broke (the broken ones are printed under their run).
 *   npx tsx bench/soak.ts [--seeds 4] [--tasks 300] [--only storm,stalls]
 * --tasks is per target (two-target scenarios list twice as many); --only keeps scenarios whose name contains a word.
 */
import { parseArgs } from 'node:util';
import { faultText, resultLine, runChaos, type ChaosResult } from '../tests/helpers/chaos.js';
import { CHAOS_SCENARIOS } from '../tests/helpers/chaos-scenarios.js';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '4' }, tasks: { type: 'string', default: '300' }, only: { type: 'string' } } });
const seeds = Number(values.seeds);
const tasks = Number(values.tasks);
if (!Number.isInteger(seeds) || seeds < 1 || !Number.isInteger(tasks) || tasks < 60) {
  process.stderr.write('usage: bench/soak.ts [--seeds N >= 1] [--tasks M >= 60] [--only word,word]\n');
  process.exit(2);
}
const words = values.only?.split(',');
const scenarios = CHAOS_SCENARIOS.filter((s) => !words || words.some((w) => s.name.includes(w)));

const started = performance.now();
const results: ChaosResult[] = [];
for (const scenario of scenarios) {
  for (let k = 0; k < seeds; k += 1) {
    // Seed k of a scenario: its own seed for k = 0 (the test's run, at soak size), then seed * 1000 + k.
    const result = await runChaos(scenario, tasks, k === 0 ? scenario.seed : scenario.seed * 1000 + k);
    results.push(result);
    process.stdout.write(`${result.violations.length ? 'FAIL' : 'ok  '} ${resultLine(result)}\n`);
    for (const line of result.violations) process.stdout.write(`       ${line}\n`);
  }
}

const sum = (f: (r: ChaosResult) => number) => results.reduce((total, r) => total + f(r), 0);
const faults: Record<string, number> = {};
for (const r of results) for (const [kind, n] of Object.entries(r.faults)) faults[kind] = (faults[kind] ?? 0) + n;
const selected = sum((r) => r.selected);
const deleted = sum((r) => r.deleted);
const broken = results.filter((r) => r.violations.length > 0);
process.stdout.write(
  [
    `TOTAL runs=${results.length} (${scenarios.length} scenarios x ${seeds} seeds, ${tasks} tasks per target)`,
    `faults=${sum((r) => Object.entries(r.faults).reduce((n, [kind, c]) => n + (kind === 'latency' ? 0 : c), 0))} [${faultText(faults)}]`,
    `selected=${selected} deleted=${deleted} failed=${sum((r) => r.failed)} deferred=${sum((r) => r.deferred)} rate=${(selected ? deleted / selected : 1).toFixed(3)}`,
    `wrongDeletes=${sum((r) => r.wrongDeletions.length)} wrongPauses=${sum((r) => r.wrongPauses.length)} inProgressDeletes=${sum((r) => r.deletesToInProgress)}`,
    `unreported=${sum((r) => r.unreported.length)} listingFailed=${sum((r) => r.listingFailed.length)}`,
    `maxInFlight=${Math.max(...results.map((r) => r.maxInFlight))} overConcurrency=${results.filter((r) => r.maxInFlight > r.concurrency).length}`,
    `brokenRuns=${broken.length} ${Math.round((performance.now() - started) / 1000)}s`,
  ].join(' ') + '\n',
);
process.exitCode = broken.length > 0 ? 1 : 0;
