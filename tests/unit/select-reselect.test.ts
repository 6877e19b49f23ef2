/**
 * stillSelected: after a refused pause or delete, a look shows the item changed; it is acted on only if the run
 * would still select it as it is now (lib/policy/reselect.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { stillSelected } from '../../lib/policy/reselect.js';
import type { Item } from '../../lib/oms/item.js';
import type { Candidate } from '../../lib/policy/types.js';
import { DAY, NOW, group, policy, rule, task } from './select-fixtures.js';

const candidate = (item: Item, ruleName = 'stuck'): Candidate => ({ item: item as Item & { id: string }, rule: ruleName, lastActivityMs: item.lastActivityMs ?? 0 });
const STUCK = rule({ name: 'stuck', statuses: ['migrating', 'retrying'], olderThanDays: 2, stopFirst: true });

describe('stillSelected', () => {
  const listed = task({ id: '7', status: 'migrating', ageMs: 5 * DAY });

  it('holds when the rule that selected it covers it as it is now (status, pattern, age) and allows it in progress', () => {
    expect(stillSelected(candidate(listed), { ...listed, status: 6 }, policy({ rules: [STUCK] }), NOW)).toBe(true);
  });

  it('fails when its status is one the rule does not name, or the item is now too young for it', () => {
    expect(stillSelected(candidate(listed), { ...listed, status: 1 }, policy({ rules: [STUCK] }), NOW)).toBe(false);
    expect(stillSelected(candidate(listed), { ...listed, status: 6, lastActivityMs: NOW - DAY }, policy({ rules: [STUCK] }), NOW)).toBe(false);
  });

  it('fails when it is now in progress and the rule has no stopFirst', () => {
    const paused = task({ id: '7', status: 'paused', ageMs: 5 * DAY });
    const stale = rule({ name: 'stale', statuses: ['paused', 'waiting'], olderThanDays: 2 });
    expect(stillSelected(candidate(paused, 'stale'), { ...paused, status: 1 }, policy({ rules: [stale] }), NOW)).toBe(false);
    expect(stillSelected(candidate(paused, 'stale'), { ...paused, status: 1 }, policy({ rules: [{ ...stale, stopFirst: true }] }), NOW)).toBe(true);
  });

  it('fails when a protection covers it now, or the selection held it', () => {
    const p = policy({ rules: [STUCK], protect: { names: ['task-7'] } });
    expect(stillSelected(candidate(listed), { ...listed, status: 6 }, p, NOW)).toBe(false);
    const g = group({ id: 'g1', status: 'monitoring', ageMs: 5 * DAY });
    const groupRule = rule({ name: 'stuck', kind: 'taskGroup', statuses: ['monitoring', 'waiting'], olderThanDays: 2, stopFirst: true });
    expect(stillSelected(candidate(g), { ...g, status: 0 }, policy({ rules: [groupRule] }), NOW)).toBe(true);
    expect(stillSelected(candidate(g), { ...g, status: 0 }, policy({ rules: [groupRule] }), NOW, { heldIds: new Set(['g1']) })).toBe(false);
  });

  it('fails when a keepLatest window might now keep it (its status entered a window, or its last activity moved)', () => {
    const windowed = rule({ name: 'keep-retrying', statuses: ['retrying'], keepLatest: 3, olderThanDays: 30 });
    expect(stillSelected(candidate(listed), { ...listed, status: 6 }, policy({ rules: [STUCK, windowed] }), NOW)).toBe(false);
    const both = rule({ name: 'keep-both', statuses: ['migrating', 'retrying'], keepLatest: 3, olderThanDays: 30 });
    // The same window before and after, the same last activity: judged at listing, nothing moved.
    expect(stillSelected(candidate(listed), { ...listed, status: 6 }, policy({ rules: [STUCK, both] }), NOW)).toBe(true);
    expect(stillSelected(candidate(listed), { ...listed, status: 6, lastActivityMs: listed.lastActivityMs! + 1 }, policy({ rules: [STUCK, both] }), NOW)).toBe(false);
  });

  it('an explicit purge needs stopFirst for an item now in progress; a manifest item never survives a change', () => {
    const named = candidate(listed, 'task-id');
    expect(stillSelected(named, { ...listed, status: 3 }, policy({ rules: [] }), NOW)).toBe(true);
    expect(stillSelected(named, { ...listed, status: 6 }, policy({ rules: [] }), NOW)).toBe(false);
    expect(stillSelected(named, { ...listed, status: 6 }, policy({ rules: [] }), NOW, { stopFirst: true })).toBe(true);
    expect(stillSelected(candidate(listed), { ...listed, status: 6 }, policy({ rules: [STUCK] }), NOW, { planned: new Map() })).toBe(false);
  });

  it('never holds for another item, or one of unknown status', () => {
    expect(stillSelected(candidate(listed), { ...listed, id: '8', status: 6 }, policy({ rules: [STUCK] }), NOW)).toBe(false);
    expect(stillSelected(candidate(listed), { ...listed, status: 42 }, policy({ rules: [STUCK] }), NOW)).toBe(false);
  });
});
