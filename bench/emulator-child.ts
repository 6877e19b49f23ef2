/**
 * The benchmark's emulator in its own process, so that the janitor under test has its own core and its numbers are
 * not the emulator's. Prints `READY <url>` once listening; answers a `stats` line on stdin with the statistics as
 * one JSON line; exits when stdin closes.
 *   tsx bench/emulator-child.ts <tasks> <latencyMs>
 */
import { createInterface } from 'node:readline';
import { startEmulator } from '../emulator/index.js';
import { BENCH_AKSK, BENCH_PROJECT, BENCH_TOKEN, benchTasks } from './bench-tasks.js';

const [count = '3000', latencyMs = '20'] = process.argv.slice(2);
const emu = await startEmulator({ projects: { [BENCH_PROJECT]: benchTasks(Number(count), Date.now()) }, tokens: [BENCH_TOKEN], akskCredentials: [BENCH_AKSK], secrets: { bench: JSON.stringify({ type: 'token', token: BENCH_TOKEN }) }, faults: { latencyMs: Number(latencyMs) } });
process.stdout.write(`READY ${emu.url}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify(emu.stats)}\n`);
});
lines.on('close', () => void emu.close());
