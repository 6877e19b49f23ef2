import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_RECORD_CHARS, RecordKeeper, recordText, redactedValue } from '../../lib/archive/records.js';
import { Redactor } from '../../lib/log/redact.js';
import { parseLossless } from '../../lib/oms/json.js';
import { parseItem } from '../../lib/oms/item.js';
import { compareTaskIds } from '../../lib/policy/task-id.js';

const item = (id: string, start: number) => {
  const raw = parseLossless(JSON.stringify({ id: Number(id), name: `t${id}`, status: 4, start_time: start, total_time: 0 }).replace(`"id":${Number(id)}`, `"id":${id}`));
  return { item: parseItem('task', raw), raw };
};

describe('RecordKeeper: the full records of the oldest possible candidates, bounded', () => {
  it('keeps exactly the `cap` oldest accepted items (ties: smaller id), whatever the order they are listed in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ id: fc.bigInt({ min: 1n, max: 10n ** 18n }).map(String), start: fc.integer({ min: 1, max: 50 }), accepted: fc.boolean() }), { selector: (x) => x.id, maxLength: 80 }),
        fc.integer({ min: 1, max: 30 }),
        (listed, cap) => {
          const accepted = new Set(listed.filter((x) => x.accepted).map((x) => x.id));
          const keeper = new RecordKeeper((i) => accepted.has(i.id!), cap);
          for (const x of listed) {
            const { item: parsed, raw } = item(x.id, x.start);
            keeper.consider(parsed, raw);
          }
          const expected = listed
            .filter((x) => x.accepted)
            .sort((a, b) => a.start - b.start || compareTaskIds(a.id, b.id))
            .slice(0, cap)
            .map((x) => x.id);
          const kept = listed.map((x) => x.id).filter((id) => keeper.recordOf(id) !== undefined);
          expect(new Set(kept)).toEqual(new Set(expected));
          for (const id of expected) expect(JSON.parse(keeper.recordOf(id)!.replace(/"id":(\d+)/, '"id":"$1"'))).toMatchObject({ id });
        },
      ),
      { seed: 0x17a1, numRuns: 300 },
    );
  });

  it('a secret holding a quote or a backslash is masked in records (redacted as a value, before JSON escapes it)', () => {
    const secret = 'Pa"ss\\w0rd-Zq8xY7wV6u';
    const redactor = new Redactor();
    redactor.add(secret);
    const text = recordText({ id: 1, error_reason: { error_msg: `login failed for ${secret}` } }, (t) => redactor.text(t));
    expect(text).not.toContain('Zq8xY7wV6u');
    expect(JSON.parse(text)).toMatchObject({ error_reason: { error_msg: 'login failed for [REDACTED]' } });
    expect(JSON.stringify(redactedValue({ failures: [{ errorMsg: secret }] }, (t) => redactor.text(t)))).not.toContain('Zq8xY7wV6u');
  });

  it('a record keeps numbers exactly as listed, masks secret-looking fields at any depth, and is bounded', () => {
    const raw = parseLossless('{"id":9007199254740993,"src_node":{"ak":"AK1","sk":"SK-SECRET","nested":[{"security_token":"T"}]},"ratio":1.10}');
    const text = recordText(raw, (t) => t.replace('AK1', '[AK]'));
    expect(text).toBe('{"id":9007199254740993,"src_node":{"ak":"[REDACTED]","sk":"[REDACTED]","nested":[{"security_token":"[REDACTED]"}]},"ratio":1.10}');
    const huge = recordText({ id: 1, name: 'x'.repeat(MAX_RECORD_CHARS) });
    expect(JSON.parse(huge)).toMatchObject({ recordTooLarge: MAX_RECORD_CHARS + 18 });
    expect(huge.length).toBeLessThan(5000);
  });
});
