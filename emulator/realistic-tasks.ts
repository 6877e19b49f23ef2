import type { EmuTask } from './types.js';

/** Fixtures of the benchmarks and the scale tests. */
export const BENCH_PROJECT = '2c0689c860ad4728a497c91ec0844383';
export const BENCH_TOKEN = 'bench-token';
/** An AK/SK pair the bench emulator accepts (signatures are verified, as in the tests). */
export const BENCH_AKSK = { ak: 'BENCHAK0000000000001', sk: 'bench-secret-key-0000000000000000000001' };
const DAY = 86_400_000;

/** `count` succeeded tasks 40+ days old, ~1 KB each like real ones, so the listing's parse cost is measured too. */
export function realisticTasks(count: number, nowMs: number): EmuTask[] {
  return Array.from({ length: count }, (_, i) => ({
    id: String(191297407830872n + BigInt(i) * 7919n),
    name: `nightly-sync-${i}`,
    status: 5,
    start_time: nowMs - 40 * DAY - i * 60_000,
    total_time: 3_600_000,
    description: '',
    task_type: 'prefix',
    progress: 1,
    total_num: 125_000,
    successful_num: 125_000,
    failed_num: 0,
    src_node: { region: 'us-east-1', bucket: 'acme-prod-logs', cloud_type: 'AWS', object_key: ['logs/2026/'], app_id: null },
    dst_node: { region: 'cn-north-4', bucket: 'obs-acme-bj4', save_prefix: 'migrated/logs/' },
    bandwidth_policy: [{ start: '00:00', end: '06:00', max_bandwidth: 104857600 }],
    enable_kms: false,
    enable_restore: false,
    migrate_since: 0,
    consistency_check: 'crc64',
  }));
}
