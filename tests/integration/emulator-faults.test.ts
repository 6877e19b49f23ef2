import { startEmulator } from '../../emulator/index.js';
import type { Emulator, FaultOptions } from '../../emulator/index.js';

const P = 'proj1';
const HEADERS = { 'X-Auth-Token': 'tok' };
const TASKS = { [P]: [{ id: '1', status: 5, start_time: 1 }] };

async function withEmulator(faults: FaultOptions, run: (emu: Emulator) => Promise<void>, seed = 7): Promise<void> {
  const emu = await startEmulator({ tokens: ['tok'], projects: TASKS, faults, seed, now: () => Date.UTC(2026, 0, 1) });
  try {
    await run(emu);
  } finally {
    await emu.close();
  }
}

function listTasks(emu: Emulator, init: RequestInit = {}): Promise<Response> {
  return fetch(`${emu.url}/v2/${P}/tasks`, { headers: HEADERS, ...init });
}

/** One request's outcome as a short word: the status, or 'error' for a reset connection. */
async function outcome(emu: Emulator): Promise<string> {
  try {
    const res = await listTasks(emu);
    await res.text();
    return String(res.status);
  } catch {
    return 'error';
  }
}

describe('fault injection', () => {
  it('429 carries Retry-After in seconds, as an HTTP date, or not at all', async () => {
    await withEmulator({ rate429: 1, retryAfter: 'seconds', retryAfterSeconds: 3 }, async (emu) => {
      const res = await listTasks(emu);
      expect([res.status, res.headers.get('retry-after')]).toEqual([429, '3']);
      expect(((await res.json()) as { error_code: string }).error_code).toBe('APIGW.0308');
      emu.setFaults({ rate429: 1, retryAfter: 'http-date', retryAfterSeconds: 2 });
      expect((await listTasks(emu)).headers.get('retry-after')).toBe('Thu, 01 Jan 2026 00:00:02 GMT');
      emu.setFaults({ rate429: 1, retryAfter: 'none' });
      expect((await listTasks(emu)).headers.get('retry-after')).toBeNull();
      expect(emu.stats.faultsInjected['429']).toBe(3);
      expect(emu.stats.byStatus['429']).toBe(3);
    });
  });

  it("'mixed' Retry-After (the default) varies between seconds, date and none", async () => {
    await withEmulator({ rate503: 1 }, async (emu) => {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const value = (await listTasks(emu)).headers.get('retry-after');
        seen.add(value === null ? 'none' : /^\d+$/.test(value) ? 'seconds' : 'date');
      }
      expect([...seen].sort()).toEqual(['date', 'none', 'seconds']);
    });
  });

  it('500 and 503 are answered with JSON error bodies', async () => {
    await withEmulator({ rate500: 1 }, async (emu) => {
      expect((await listTasks(emu)).status).toBe(500);
      emu.setFaults({ rate503: 1 });
      expect((await listTasks(emu)).status).toBe(503);
      expect(emu.stats.faultsInjected).toMatchObject({ '500': 1, '503': 1 });
    });
  });

  it('html answers 200 text/html with a proxy error page', async () => {
    await withEmulator({ rateHtml: 1 }, async (emu) => {
      const res = await listTasks(emu);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html');
      expect(await res.text()).toBe('<html><body>502 Bad Gateway</body></html>');
    });
  });

  it('reset destroys the socket without an answer', async () => {
    await withEmulator({ rateReset: 1 }, async (emu) => {
      await expect(listTasks(emu)).rejects.toThrow();
      expect(emu.stats.faultsInjected.reset).toBe(1);
      expect(emu.stats.byStatus).toEqual({});
      expect(emu.stats.inFlight).toBe(0);
    });
  });

  it('stall holds the request for stallMs then resets it; close() ends a stalled request at once', async () => {
    await withEmulator({ rateStall: 1, stallMs: 50 }, async (emu) => {
      const started = Date.now();
      await expect(listTasks(emu)).rejects.toThrow();
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    });
    const emu = await startEmulator({ tokens: ['tok'], projects: TASKS, faults: { rateStall: 1 } });
    const pending = listTasks(emu).then(
      () => 'answered',
      () => 'reset',
    );
    while (emu.stats.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
    const closing = Date.now();
    await emu.close();
    expect(await pending).toBe('reset');
    expect(Date.now() - closing).toBeLessThan(1000);
  });

  it('faults only hit the chosen routes, and never IAM or Secrets Manager', async () => {
    await withEmulator({ rate500: 1, routes: ['delete'] }, async (emu) => {
      expect((await listTasks(emu)).status).toBe(200);
      expect((await fetch(`${emu.url}/v2/${P}/tasks/1`, { method: 'DELETE', headers: HEADERS })).status).toBe(500);
      expect((await fetch(`${emu.url}/v3/auth/tokens`, { method: 'POST', body: '{}' })).status).toBe(400);
    });
  });

  it('the same seed replays the same fault pattern; another seed gives another one', async () => {
    const faults: FaultOptions = { rate429: 0.2, rate500: 0.2, rateHtml: 0.2, rateReset: 0.1, retryAfter: 'none' };
    const pattern = async (seed: number): Promise<string[]> => {
      const out: string[] = [];
      await withEmulator(faults, async (emu) => {
        for (let i = 0; i < 30; i++) out.push(await outcome(emu));
        expect(emu.stats.faultsInjected['429'] ?? 0).toBe(out.filter((o) => o === '429').length);
        expect(emu.stats.faultsInjected.reset ?? 0).toBe(out.filter((o) => o === 'error').length);
      }, seed);
      return out;
    };
    const a = await pattern(42);
    expect(await pattern(42)).toEqual(a);
    expect(await pattern(43)).not.toEqual(a);
    expect(new Set(a)).toEqual(new Set(['200', '429', '500', 'error']));
  });

  it('latency delays answers and inFlight/maxInFlight count requests in flight during it', async () => {
    await withEmulator({ latencyMs: 60 }, async (emu) => {
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 6 }, () => listTasks(emu).then((r) => r.status)));
      expect(answers).toEqual([200, 200, 200, 200, 200, 200]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(55);
      expect(emu.stats.maxInFlight).toBe(6);
      expect(emu.stats.inFlight).toBe(0);
      expect(emu.stats.faultsInjected.latency).toBe(6);
      expect(emu.stats.calls.list).toBe(6);
    });
  });
});
