#!/usr/bin/env node
/**
 * `npm test`: the type-check (tsc --noEmit) and vitest, side by side.
 *
 * tsc takes about 25 s on one core; run first, it left CI's second core idle
 * for that long. Here both start at once; tsc's output is held back and
 * printed after vitest's summary, and the exit code is non-zero when either
 * failed. Arguments go to vitest (`npm test -- test/foo.test.ts`).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const tscBin = require.resolve('typescript/bin/tsc');
// vitest's package exports no path to its bin; its package.json is exported.
const vitestBin = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const report = process.env.TINYCAM_VITEST_JSON ?? '.vitest-report.json';

/** Runs a node script; resolves to its exit code (and its output, when held back). */
function run(script, args, { holdOutput }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: holdOutput ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (holdOutput) {
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
    }
    child.on('error', (e) => resolve({ code: 1, output: `${output}${e.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const typecheck = run(tscBin, ['--noEmit'], { holdOutput: true });
const tests = run(
  vitestBin,
  ['run', '--reporter=default', '--reporter=./test/helpers/reference-reporter.ts', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { holdOutput: false },
);

const [types, vitest] = await Promise.all([typecheck, tests]);
if (types.code === 0) {
  console.log('type-check (tsc --noEmit): no errors');
} else {
  process.stdout.write(types.output);
  console.log(`type-check (tsc --noEmit) FAILED with exit code ${types.code}`);
}
process.exit(types.code !== 0 ? types.code || 1 : vitest.code);
