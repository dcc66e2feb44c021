import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default is one worker per core minus one: a single worker on
    // CI's two cores, which left one core idle for the whole run.
    maxWorkers: 2,
    // The second says in one line what missing reference data (../shared) left out.
    reporters: ['default', './test/helpers/reference-reporter.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
