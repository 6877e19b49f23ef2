import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isoTimestamps, jsonLinesLog } from '../../lib/log/json-lines.js';
import { Redactor } from '../../lib/log/redact.js';
import { StdoutLogger, powertoolsLog } from '../../lib/log/powertools.js';
import { forTerminal, terminalSafeJson } from '../../lib/log/terminal.js';

describe('Redactor: whole secrets and the prefixes a server cut short', () => {
  const token = 'MIIEXAYJKoZIhvcNAQcCoIIETTCCBEkCAQExDTALBglghk';
  const r = new Redactor();
  r.add(token, 'pw12');

  it('masks every occurrence of a whole secret', () => {
    expect(r.text(`a ${token} b ${token}`)).toBe('a [REDACTED] b [REDACTED]');
  });

  it('masks a prefix of 12 characters or more, wherever it stops', () => {
    expect(r.text(`echo: ${token.slice(0, 30)}...`)).toBe('echo: [REDACTED]...');
    expect(r.text(`echo: ${token.slice(0, 12)}`)).toBe('echo: [REDACTED]');
    expect(r.text(`${token.slice(0, 20)}XYZ`)).toBe('[REDACTED]XYZ');
  });

  it('leaves shorter fragments and unrelated text alone; short secrets only match whole', () => {
    expect(r.text(`${token.slice(0, 11)}`)).toBe(token.slice(0, 11));
    expect(r.text('pw1 and pw12')).toBe('pw1 and [REDACTED]');
    expect(r.text('nothing secret here')).toBe('nothing secret here');
  });

  it('a secret that repeats its own start is masked whole, no tail left', () => {
    const odd = new Redactor();
    odd.add('abcdefghijklabcdefghijklXYZ');
    // a leading copy of its start (12 characters: a prefix, masked too), then the whole secret: nothing of it shows
    expect(odd.text('abcdefghijklabcdefghijklabcdefghijklXYZ!')).toBe('[REDACTED][REDACTED]!');
    expect(odd.text('x abcdefghijklabcdefghijklXYZ y')).toBe('x [REDACTED] y');
  });

  it('masks the header secrets of signed and token requests, also in short texts and any case', () => {
    expect(r.text('X-Auth-Token: t')).toBe('X-Auth-Token: [REDACTED]');
    expect(r.text('x-auth-token:abc')).toBe('x-auth-token:[REDACTED]');
    expect(r.text('SDK-HMAC-SHA256 Access=AK, Signature=0123456789abcdef0123')).toBe('SDK-HMAC-SHA256 Access=AK, Signature=[REDACTED]');
  });

  it('the fast paths change nothing: every text is masked exactly as a search of every secret and pattern would (property)', () => {
    const secrets = ['MIIEXAYJKoZIhvcNAQcCoIIETTCCBEkCAQExDTALBglghk', 'pw12', 'abcdefghijklm', 'Zz9'];
    const redactor = new Redactor();
    redactor.add(...secrets);
    // The same masking without any shortcut: every kept secret searched in every text, both patterns always applied.
    const reference = (text: string) => {
      let out = text;
      for (const secret of secrets.filter((x) => x.length >= 4)) {
        if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
        const head = secret.length > 12 ? secret.slice(0, 12) : secret;
        let result = '';
        let from = 0;
        for (let at = out.indexOf(head); at >= 0; at = out.indexOf(head, from)) {
          let end = at + head.length;
          while (end - at < secret.length && end < out.length && out[end] === secret[end - at]) end += 1;
          result += out.slice(from, at) + '[REDACTED]';
          from = end;
        }
        out = result + out.slice(from);
      }
      return out.replace(/(Signature=)[0-9a-f]{16,}/gi, '$1[REDACTED]').replace(/(X-Auth-Token:\s*)\S+/gi, '$1[REDACTED]');
    };
    const piece = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom(...secrets, 'X-Auth-Token:', 'x-auth-token: ', 'Signature=', '0123456789abcdef', ' '),
      fc.constantFrom(...secrets).chain((x) => fc.integer({ min: 1, max: x.length }).map((n) => x.slice(0, n))),
    );
    fc.assert(fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
      const text = pieces.join('');
      expect(redactor.text(text)).toBe(reference(text));
    }), { numRuns: 2000 });
  });

  it('reaches into values, errors and sensitive keys', () => {
    expect(r.value({ msg: `x ${token.slice(0, 15)}`, token: 'anything', list: [token] })).toEqual({ msg: 'x [REDACTED]', token: '[REDACTED]', list: ['[REDACTED]'] });
  });
});

describe('terminal output', () => {
  it('forTerminal shows C0, DEL, C1 and bidi controls as visible escapes and keeps other text', () => {
    expect(forTerminal('a\u001b[2Jb\u0007\t\n\u007f\u009b\u202e\u2066\u200fé漢🙂')).toBe('a\\x1b[2Jb\\x07\\x09\\x0a\\x7f\\x9b\\u202e\\u2066\\u200fé漢🙂');
  });

  it('terminalSafeJson decodes to the same value and holds no raw C1 or bidi character', () => {
    const value = { name: 'x\u009b1A\u202e\u2028\u0001y', n: 1 };
    const text = terminalSafeJson(value);
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2028]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('Lambda log lines (Powertools)', () => {
  it('are terminal-safe JSON on stdout, at every level, and decode to the exact text', () => {
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      const log = powertoolsLog(new StdoutLogger({ serviceName: 's' }), new Redactor());
      log.error('task failed', { name: 'n\u202eexe\u009b2J\u001b[31m' });
      log.info('task deleted', { name: 'plain' });
    } finally {
      process.stdout.write = original;
    }
    expect(written).toHaveLength(2);
    expect(written.join('')).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    const line = JSON.parse(written[0]!) as { level: string; name: string };
    expect(line).toMatchObject({ level: 'ERROR', name: 'n\u202eexe\u009b2J\u001b[31m' });
  });

  it('a line below the logger\'s level is neither redacted nor written; at that level it is both', () => {
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    const redactor = new Redactor();
    redactor.add('SECRET-TOKEN-VALUE-123');
    let redacted = 0;
    const text = redactor.text.bind(redactor);
    redactor.text = (value: string) => ((redacted += 1), text(value));
    try {
      const logger = new StdoutLogger({ serviceName: 's', logLevel: 'INFO' });
      const log = powertoolsLog(logger, redactor);
      log.debug('task would be deleted (dry run)', { name: 'x SECRET-TOKEN-VALUE-123' });
      expect({ written: written.length, redacted }).toEqual({ written: 0, redacted: 0 });
      logger.setLogLevel('DEBUG');
      log.debug('task would be deleted (dry run)', { name: 'x SECRET-TOKEN-VALUE-123' });
    } finally {
      process.stdout.write = original;
    }
    expect(written).toHaveLength(1);
    expect(redacted).toBeGreaterThan(0);
    expect(written[0]).toContain('x [REDACTED]');
  });
});

describe('JSON lines: timestamps', () => {
  it('write the clock\'s time exactly as toISOString does, second after second and within one', () => {
    // Runs of times: many within one second (the kept part is reused), jumps across seconds, years and signs.
    const time = fc.oneof(fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }), fc.integer({ min: 1_700_000_000_000, max: 1_700_000_003_000 }));
    fc.assert(
      fc.property(fc.array(time, { minLength: 1, maxLength: 40 }), (times) => {
        let i = 0;
        const stamp = isoTimestamps(() => times[i]!);
        for (; i < times.length; i += 1) expect(stamp()).toBe(new Date(times[i]!).toISOString());
      }),
      { numRuns: 500 },
    );
  });

  it('throw for a time toISOString refuses, as it does', () => {
    for (const bad of [Number.NaN, 8.64e15 + 1, Number.POSITIVE_INFINITY]) expect(() => isoTimestamps(() => bad)()).toThrow(RangeError);
  });

  it('are on every line, from the log\'s clock', () => {
    const lines: string[] = [];
    let now = Date.UTC(2026, 11, 4, 15, 4, 5, 7);
    const log = jsonLinesLog((line) => void lines.push(line), { redactor: new Redactor(), clock: () => now });
    log.info('a');
    now += 993;
    log.info('b');
    expect(lines.map((l) => (JSON.parse(l) as { timestamp: string }).timestamp)).toEqual(['2026-12-04T15:04:05.007Z', '2026-12-04T15:04:06.000Z']);
  });
});
