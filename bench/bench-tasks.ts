// The benchmarks' fixtures live with the emulator (tests use them too).
export { BENCH_AKSK, BENCH_PROJECT, BENCH_TOKEN, realisticTasks as benchTasks } from '../emulator/realistic-tasks.js';
