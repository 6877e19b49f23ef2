// Preloaded (NODE_OPTIONS=--import) by tests/integration/cli-heap.test.ts: each process says, on stderr, which V8 heap
// flags it was started with (and --expose-gc, which the same child gets).
process.stderr.write(`HEAPFLAGS ${JSON.stringify(process.execArgv.filter((flag) => /^--(max-(old|semi)-space-size|expose-gc)/.test(flag)))} ${process.pid}\n`);
