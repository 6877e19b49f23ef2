import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError, archiveRootFor, openArchiveStore } from '../../lib/archive/store.js';
import { runPrefix } from '../../lib/archive/run-archive.js';

describe('archive roots and the local store', () => {
  it('completes {account} and {region} from the function ARN; refuses them outside Lambda', () => {
    const arn = 'arn:aws:lambda:ap-southeast-1:123456789012:function:oms-task-janitor-prod-purge';
    expect(archiveRootFor('s3://oms-task-janitor-prod-archive-{account}-{region}', arn)).toBe('s3://oms-task-janitor-prod-archive-123456789012-ap-southeast-1');
    expect(archiveRootFor('s3://fixed/prefix', undefined)).toBe('s3://fixed/prefix');
    expect(() => archiveRootFor('s3://b-{account}', undefined)).toThrow(/only a deployed function completes; outside Lambda give a full root/);
  });

  it('refuses an s3 root with an invalid bucket name, an empty root, and a run id that cannot name a folder', () => {
    for (const root of ['s3://', 's3://UPPER', 's3://a_b/x', 's3://ab']) expect(() => openArchiveStore(root)).toThrow(ArchiveError);
    expect(() => openArchiveStore(' ')).toThrow(/empty/);
    expect(runPrefix('c0ffee-1', Date.UTC(2026, 11, 4, 23, 59))).toBe('runs/2026/12/04/c0ffee-1/');
    for (const id of ['../x', 'a/b', '', '.hidden']) expect(() => runPrefix(id, 0)).toThrow(ArchiveError);
  });

  it('a local store writes whole files, reads them back, lists keys below a prefix, and never leaves its root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'janitor-store-'));
    const store = openArchiveStore(dir);
    await store.put('runs/2026/12/04/r1/summary.json', Buffer.from('{}'), 'application/json');
    await store.put('pending/notice.json', Buffer.from('[]'), 'application/json');
    writeFileSync(join(dir, 'runs', '2026', '12', '04', 'r1', 'x.json.123.tmp'), 'half'); // a write cut short
    expect((await store.get('runs/2026/12/04/r1/summary.json'))?.toString()).toBe('{}');
    expect(await store.get('runs/none.json')).toBeUndefined();
    expect((await store.list('runs/')).sort()).toEqual(['runs/2026/12/04/r1/summary.json']);
    expect(await store.list('nothing-here/')).toEqual([]);
    await expect(store.put('../escape.json', Buffer.from('x'), 'text/plain')).rejects.toThrow(/outside the root/);
  });
});
