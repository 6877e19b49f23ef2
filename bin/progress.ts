import type { Writable } from 'node:stream';

/** A single self-overwriting progress line for a terminal (never used when stderr is a file or a pipe). */
export function progressReporter(stream: Writable) {
  let last = 0;
  return {
    update({ phase, done, total }: { phase: 'list' | 'purge'; done: number; total: number }) {
      const now = Date.now();
      if (done !== total && now - last < 100) return;
      last = now;
      const label = phase === 'list' ? 'listing targets' : 'purging tasks';
      stream.write(`\r\x1b[2K${label}: ${done}/${total}`);
    },
    end() {
      stream.write('\r\x1b[2K');
    },
  };
}
