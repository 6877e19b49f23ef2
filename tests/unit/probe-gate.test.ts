import { describe, expect, it } from '@jest/globals';
import { ProbeGate } from '../../lib/auth/probe-gate.js';

describe('ProbeGate', () => {
  it('one probe at a time until proven, then everyone; a refusal reaches waiters and later callers', async () => {
    const gate = new ProbeGate();
    await gate.enter();
    let second = false;
    const waiting = gate.enter().then(() => (second = true));
    await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    gate.prove();
    await waiting;
    await gate.enter(); // proven: no waiting
    const refused = new ProbeGate();
    await refused.enter();
    const waiter = refused.enter().catch((e: Error) => e.message);
    refused.refuse(() => new Error('no'));
    expect(await waiter).toBe('no');
    await expect(refused.enter()).rejects.toThrow('no');
  });

  it('a waiter aborted while waiting leaves; one woken as the next probe but aborted hands the turn on', async () => {
    const gate = new ProbeGate();
    await gate.enter();
    const a = new AbortController();
    const first = gate.enter(a.signal).catch((e: unknown) => e);
    const next = gate.enter();
    gate.release(); // wakes the first waiter ...
    a.abort(new Error('deadline')); // ... which is aborted before it runs on
    expect(await first).toEqual(new Error('deadline'));
    await next; // the turn was handed on: the next waiter became the probe
    const b = new AbortController();
    const late = gate.enter(b.signal).catch((e: Error) => e.message);
    b.abort(new Error('gone'));
    expect(await late).toBe('gone');
  });
});
