// ts-jest in ESM mode: ky and p-limit ship only as ES modules. Type checking is done once by `tsc --noEmit`
// in `npm test`, so ts-jest only transpiles (tsconfig's isolatedModules), which keeps the suite fast.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testTimeout: 30000,
  // Two workers even on 2 cores: most test time is waiting (emulator latency, stalls, retry waits, child processes),
  // so the suite takes about half as long. Timing assertions are written for a loaded machine.
  maxWorkers: 2,
};
