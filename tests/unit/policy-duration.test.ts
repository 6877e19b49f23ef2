import { describe, expect, it } from '@jest/globals';
import { parseDuration, parseDurationMs } from '../../lib/policy/duration.js';

describe('parseDurationMs', () => {
  it('reads minutes, hours, days and weeks', () => {
    expect(parseDurationMs('10m')).toBe(600_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('7d')).toBe(7 * 86_400_000);
    expect(parseDurationMs('2w')).toBe(14 * 86_400_000);
    expect(parseDurationMs('07d')).toBe(7 * 86_400_000);
  });

  it.each(['', '7', 'd', '7 d', ' 7d', '7d ', '7days', '1.5d', '-1d', '+1d', '7s', '7D', '1M', '1y', '7dd', '1e3d'])(
    'refuses %j',
    (text) => {
      expect(parseDurationMs(text)).toBeUndefined();
    },
  );

  it('refuses zero and values too large to be exact, saying why', () => {
    expect(parseDuration('0d')).toEqual({ ok: false, message: 'must be greater than zero, got "0d"' });
    expect(parseDuration('999999999999999w')).toEqual({ ok: false, message: 'too large, got "999999999999999w"' });
    expect(parseDuration('7 days')).toEqual({
      ok: false,
      message: 'expected <whole number><m|h|d|w> such as 7d, got "7 days"',
    });
  });
});
