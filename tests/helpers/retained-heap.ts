/**
 * Run as a child process with --expose-gc (tests/integration/listing-memory.test.ts): lists `count` realistic tasks
 * from an emulator through the real client and prints, as one JSON line, the heap the listing retains per task.
 */
import { startEmulator } from '../../emulator/index.js';
import { BENCH_PROJECT, BENCH_TOKEN, realisticTasks } from '../../emulator/realistic-tasks.js';
import { tokenAuthenticator } from '../../lib/auth/types.js';
import { createHttp } from '../../lib/http/client.js';
import { OmsClient } from '../../lib/oms/client.js';

const count = Number(process.argv[2] ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const emu = await startEmulator({ tokens: [BENCH_TOKEN], projects: { [BENCH_PROJECT]: realisticTasks(count, Date.now()) } });
const oms = new OmsClient({ http: createHttp(), auth: tokenAuthenticator(BENCH_TOKEN) });
// A full collection a turn later: what the finished job still held (sockets, buffers) is released by then.
const heapUsed = async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
  return process.memoryUsage().heapUsed;
};
await oms.list('task', { endpoint: emu.url, projectId: BENCH_PROJECT }); // warm-up: code, the emulator's caches, sockets
const before = await heapUsed();
const listing = await oms.list('task', { endpoint: emu.url, projectId: BENCH_PROJECT }, { parallelPages: 8 });
const after = await heapUsed();
process.stdout.write(`${JSON.stringify({ tasks: listing.tasks.length, bytesPerTask: Math.round((after - before) / listing.tasks.length) })}\n`);
await emu.close();
