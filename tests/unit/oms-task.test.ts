import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { finiteNumber, losslessText, numberText, parseExact, parseLossless } from '../../lib/oms/json.js';
import { parseItem } from '../../lib/oms/item.js';

const read = (json: string) => parseItem('task', parseLossless(json));

describe('parseItem: every field optional, ids exact', () => {
  it('reads an int64 id above 2^53 exactly (JSON.parse would round it into its neighbour)', () => {
    expect(read('{"id": 9007199254740993}').id).toBe('9007199254740993');
    expect(JSON.parse('{"id": 9007199254740993}').id).toBe(9007199254740992);
    expect(read('{"id": 191297407830872}').id).toBe('191297407830872');
    expect(read('{"id": "191297407830872"}').id).toBe('191297407830872');
  });

  it.each([
    ['a float', '1.5e3'],
    ['a negative', '-7'],
    ['20 digits', '12345678901234567890'],
    ['leading zeros', '"0042"'],
    ['a path', '"12/../1004"'],
    ['an object', '{"v": 1}'],
    ['null', 'null'],
    ['an empty string', '""'],
  ])('an id that is %s is malformed: null, with a printable idText', (_what, id) => {
    const task = read(`{"id": ${id}, "status": 5}`);
    expect(task.id).toBeNull();
    expect(task.idText.length).toBeLessThanOrEqual(41);
  });

  it('an object id is printed as the JSON it was, not as the parser\'s number objects', () => {
    expect(read('{"id": {"v": 12, "w": [1.50]}, "status": 5}').idText).toBe('{"v":12,"w":[1.50]}');
  });

  it('every JSON number reads back as exactly the text it was written as (plain numbers only where that holds)', () => {
    const text = fc.oneof(
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
      fc.constantFrom('-0', '0', '1.0', '1e3', '1E3', '1.5e3', '0.0', '9007199254740993', '999999999999999', '1000000000000000'),
    );
    // Spaced (the exact parser) and compact (the fast path, when the text round-trips) alike.
    fc.assert(
      fc.property(text, (written) => [`{"v": ${written}}`, `{"v":${written}}`, `[${written}]`].every((json) => numberText((parseLossless(json) as { v: unknown }).v ?? (parseLossless(json) as unknown[])[0]) === written)),
      { seed: 90210, numRuns: 2000 },
    );
  });

  it('the fast path gives what the exact parser gives, and refuses what it refuses (property)', () => {
    const number = fc.oneof(
      fc.integer({ min: -1000, max: 10 ** 15 }).map(String),
      fc.bigInt({ min: 2n ** 53n - 5n, max: 2n ** 64n }).map(String),
      fc.constantFrom('-0', '1.0', '1e3', '1.5', '0.1', '9007199254740993', '123456789012345678'),
    );
    const key = fc.constantFrom('id', 'status', 'name', '__proto__', '1', 'a\\u0041', 'x');
    const value = fc.letrec<{ v: string; obj: string; arr: string }>((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, number, fc.constantFrom('true', 'null', '"s"', '"\\u00e9"', '"é"'), tie('obj'), tie('arr')),
      obj: fc.array(fc.tuple(key, tie('v')), { maxLength: 4 }).map((pairs) => `{${pairs.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
      arr: fc.array(tie('v'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
    })).v;
    const outcome = (parse: (t: string) => unknown, text: string) => {
      try {
        return { text: losslessText(parse(text)) };
      } catch (error) {
        return { error: (error as Error).name };
      }
    };
    let fast = 0; // texts that take the fast path (they round-trip through JSON.parse and JSON.stringify)
    fc.assert(
      fc.property(value, fc.boolean(), (json, spaced) => {
        const text = spaced ? json.replace(/:/g, ': ') : json;
        expect(outcome(parseLossless, text)).toEqual(outcome(parseExact, text));
        if (outcome((t) => JSON.stringify(JSON.parse(t)) === t || undefined, text).text === 'true') fast += 1;
      }),
      { seed: 4242, numRuns: 3000 },
    );
    expect(fast).toBeGreaterThan(300);
    // Nested deeper than JSON.stringify's stack: the exact parser decides, never a RangeError of the fast path.
    const deep = (d: number) => `{"count":1,"tasks":[{"id":1,"x":${'['.repeat(d)}${']'.repeat(d)}}]}`;
    for (let d = 3000; d <= 6000; d += 250) {
      const exact = outcome(parseExact, deep(d));
      expect(outcome(parseLossless, deep(d))).toEqual(exact);
    }
    // A duplicate key with different values is refused on either path; an id above 2^53 stays exact.
    expect(() => parseLossless('{"id":1,"id":2}')).toThrow();
    expect(numberText((parseLossless('{"id":9007199254740993}') as { id: unknown }).id)).toBe('9007199254740993');
  });

  it.each(['-0', '1000.0', '1e3', '-5'])('the id %s is malformed, never read as another number', (id) => {
    expect(read(`{"id": ${id}, "status": 5}`).id).toBeNull();
  });

  it('a missing id is malformed too', () => {
    expect(read('{"status": 5}')).toMatchObject({ id: null, idText: '(missing)' });
  });

  it('last activity = start_time + total_time; total_time missing counts as 0', () => {
    expect(read('{"id": 1, "start_time": 1000, "total_time": 500}').lastActivityMs).toBe(1500);
    expect(read('{"id": 1, "start_time": 1000}').lastActivityMs).toBe(1000);
  });

  it.each([
    ['no start_time', '{"id": 1}'],
    ['start_time 0', '{"id": 1, "start_time": 0}'],
    ['start_time a string', '{"id": 1, "start_time": "1000"}'],
    ['a negative total_time', '{"id": 1, "start_time": 1000, "total_time": -5}'],
    ['a string total_time', '{"id": 1, "start_time": 1000, "total_time": "5"}'],
  ])('%s: unknown age (fail closed)', (_what, json) => {
    expect(read(json).lastActivityMs).toBeNull();
  });

  it('status: an integer as listed (unknown codes kept for selection to skip); anything else null', () => {
    expect(read('{"id": 1, "status": 5}').status).toBe(5);
    expect(read('{"id": 1, "status": 0}').status).toBe(0);
    expect(read('{"id": 1, "status": 42}').status).toBe(42);
    expect(read('{"id": 1, "status": "5"}').status).toBeNull();
    expect(read('{"id": 1, "status": 5.5}').status).toBeNull();
    expect(read('{"id": 1}').status).toBeNull();
  });

  it('name and group_type', () => {
    expect(read('{"id": 1}')).toMatchObject({ name: '', groupType: null });
    expect(read('{"id": 1, "name": 7, "group_type": "SYNC_TASK"}')).toMatchObject({ name: '', groupType: 'SYNC_TASK' });
    expect(read('{"id": 1, "group_type": null}').groupType).toBeNull();
  });

  it('a task that is not an object yields a malformed task rather than a throw', () => {
    expect(read('[1, 2]')).toMatchObject({ id: null, status: null, lastActivityMs: null });
    expect(read('"text"')).toMatchObject({ id: null });
  });
});

describe('parseItem: task groups and sync tasks', () => {
  const group = (json: string) => parseItem('taskGroup', parseLossless(json));
  const sync = (json: string) => parseItem('syncTask', parseLossless(json));

  it('reads a group: string id, integer status, start_time + total_time, description and the nodes\' buckets', () => {
    const g = group('{"group_id": "0b6c2f3a-8d5e-4e7a-9c1d-2f3e4a5b6c7d", "status": 6, "start_time": 1000, "total_time": 500, "description": "nightly", "src_node": {"bucket": "s3-a"}, "dst_node": {"bucket": "obs-b"}, "name": "ignored"}');
    expect(g).toEqual({ kind: 'taskGroup', id: '0b6c2f3a-8d5e-4e7a-9c1d-2f3e4a5b6c7d', idText: '0b6c2f3a-8d5e-4e7a-9c1d-2f3e4a5b6c7d', name: '', status: 6, lastActivityMs: 1500, groupType: null, description: 'nightly', srcBucket: 's3-a', dstBucket: 'obs-b' });
  });

  it.each([
    ['a number (1e3 would be printed as another id)', '1e3'],
    ['a plain number', '42'],
    ['a path', '"a/../b"'],
    ['a query', '"a?x=1"'],
    ['an escape', '"a%2Fb"'],
    ['a leading dot', '"..a"'],
    ['a space', '"a b"'],
    ['empty', '""'],
    ['1025 characters', `"${'a'.repeat(1025)}"`],
    ['missing', 'null'],
  ])('a group or sync task id that is %s is malformed: never placed in a URL', (_what, id) => {
    expect(group(`{"group_id": ${id}, "status": 6, "start_time": 1}`).id).toBeNull();
    expect(sync(`{"sync_task_id": ${id}, "status": "STOPPED", "create_time": 1}`).id).toBeNull();
  });

  it('accepts ids of letters, digits, _, - and . up to 1024 characters', () => {
    for (const id of ['a', 'A-1_b.c', '7', 'x'.repeat(1024)]) expect(group(`{"group_id": "${id}"}`).id).toBe(id);
  });

  it('a group with a task\'s `id` field but no group_id has no id', () => {
    expect(group('{"id": "g-1", "status": 6}').id).toBeNull();
  });

  it('reads a sync task: word status, last_start_time, else create_time when never started', () => {
    expect(sync('{"sync_task_id": "s-1", "status": "STOPPED", "create_time": 100, "last_start_time": 900, "src_bucket": "a", "dst_bucket": "b"}')).toMatchObject({
      kind: 'syncTask', id: 's-1', status: 'STOPPED', lastActivityMs: 900, srcBucket: 'a', dstBucket: 'b', description: '',
    });
    expect(sync('{"sync_task_id": "s-1", "create_time": 100}').lastActivityMs).toBe(100);
    expect(sync('{"sync_task_id": "s-1", "create_time": 100, "last_start_time": null}').lastActivityMs).toBe(100);
    expect(sync('{"sync_task_id": "s-1", "create_time": 100, "last_start_time": 0}').lastActivityMs).toBe(100);
  });

  it.each([
    ['a negative last_start_time', '"last_start_time": -5, "create_time": 100'],
    ['a text last_start_time', '"last_start_time": "900", "create_time": 100'],
    ['no times at all', '"status": "STOPPED"'],
    ['a zero create_time, never started', '"create_time": 0'],
  ])('a sync task with %s has an unknown age (fail closed)', (_what, fields) => {
    expect(sync(`{"sync_task_id": "s-1", ${fields}}`).lastActivityMs).toBeNull();
  });

  it('a status of the wrong type is unknown: a number for a sync task, a word for a group', () => {
    expect(sync('{"sync_task_id": "s", "status": 1}').status).toBeNull();
    expect(group('{"group_id": "g", "status": "SUCCEEDED"}').status).toBeNull();
  });
});

describe('finiteNumber', () => {
  it('reads a JSON number as the value its text gives, exact or not, and nothing else', () => {
    expect(finiteNumber(1_790_000_000_123)).toBe(1_790_000_000_123);
    expect(Object.is(finiteNumber(-0), 0)).toBe(true);
    expect(Object.is(finiteNumber(parseExact('-0')), 0)).toBe(true);
    expect(finiteNumber(parseExact('1e3'))).toBe(1000);
    expect(finiteNumber(parseExact('9007199254740993'))).toBe(9007199254740992);
    for (const odd of [Number.NaN, Number.POSITIVE_INFINITY, parseExact('1e400'), '5', null, undefined, {}, true]) expect(finiteNumber(odd)).toBeUndefined();
  });

  it('agrees with reading the number\'s text back, for every finite double', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => Object.is(finiteNumber(n), Number(String(n)))));
  });
});
