/**
 * The README's quick start on a fresh clone with nothing beside it: the files
 * git tracks, copied into <tmp>/tinycam (so ../shared is <tmp>/shared, which
 * does not exist), then `npm ci`, `npm run demo` (out/demo.png must decode as
 * a PNG) and `npm test`, whose run must pass, say that ../shared was not found
 * and compare against the compact copy in test/fixtures. The inner `npm test`
 * skips this file (TINYCAM_FRESH_CLONE_INNER). Each step's time is printed.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const INNER = 'TINYCAM_FRESH_CLONE_INNER';

interface Step {
  code: number | null;
  seconds: number;
  log: string;
}

/** Runs a command to completion, its output in `log` (a file), without blocking the worker. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, log: string): Promise<Step> {
  const start = performance.now();
  return new Promise((done, fail) => {
    const out = createWriteStream(log);
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', fail);
    child.on('close', (code) => out.end(() => done({ code, seconds: (performance.now() - start) / 1000, log })));
  });
}

function tail(log: string, lines = 60): string {
  return readFileSync(log, 'utf8').split('\n').slice(-lines).join('\n');
}

/** The files git tracks, as they are in the working tree: what a clone of a commit of them holds. */
async function copyTracked(to: string): Promise<number> {
  const list = join(dirname(to), 'ls-files.txt');
  const step = await run('git', ['ls-files', '-z'], ROOT, process.env, list);
  if (step.code !== 0) throw new Error(`git ls-files failed in ${ROOT}:\n${tail(list)}`);
  const files = readFileSync(list, 'utf8').split('\0').filter((f) => f !== '' && existsSync(join(ROOT, f)));
  for (const f of files) {
    const from = join(ROOT, f);
    mkdirSync(dirname(join(to, f)), { recursive: true });
    if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), join(to, f));
    else copyFileSync(from, join(to, f)); // keeps the mode: .ci/run stays executable
  }
  return files.length;
}

/**
 * The environment of a user's shell: without what the outer npm and vitest
 * set (npm_* config such as local_prefix would point the inner npm at this
 * repository; VITEST_* would make the inner vitest think it is a worker).
 */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const keep = /^npm_config_(cache|registry|userconfig)$/.test(k);
    if (!keep && (/^npm_/i.test(k) || /^VITEST/.test(k) || ['INIT_CWD', 'TEST', 'NODE_ENV', 'TINYCAM_VITEST_JSON'].includes(k))) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

describe.skipIf(process.env[INNER])('a fresh clone with nothing beside it (the README\'s commands)', () => {
  it('npm ci && npm run demo writes out/demo.png; npm test passes over the compact copy', { timeout: 60 * 60_000 }, async () => {
    const base = mkdtempSync(join(tmpdir(), 'tinycam-fresh-'));
    const clone = join(base, 'tinycam');
    try {
      expect(existsSync(join(base, 'shared')), 'nothing beside the clone').toBe(false);
      const t0 = performance.now();
      const count = await copyTracked(clone);
      const copySeconds = (performance.now() - t0) / 1000;
      const report = join(base, 'vitest-report.json');
      const env = userEnv({ [INNER]: '1', TINYCAM_VITEST_JSON: report });

      const ci = await run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], clone, env, join(base, 'npm-ci.log'));
      expect(ci.code, `npm ci failed:\n${tail(ci.log)}`).toBe(0);

      const demo = await run('npm', ['run', 'demo'], clone, env, join(base, 'demo.log'));
      expect(demo.code, `npm run demo failed:\n${tail(demo.log)}`).toBe(0);
      const png = PNG.sync.read(readFileSync(join(clone, 'out/demo.png')));
      expect(png.width * png.height).toBeGreaterThan(0);

      const test = await run('npm', ['test'], clone, env, join(base, 'npm-test.log'));
      const output = readFileSync(test.log, 'utf8');
      expect(test.code, `npm test failed in the fresh clone:\n${tail(test.log)}`).toBe(0);
      const summary = JSON.parse(readFileSync(report, 'utf8')) as {
        success: boolean; numTotalTests: number; numPassedTests: number; numFailedTests: number; numPendingTests: number;
        numFailedTestSuites: number; numRuntimeErrorTestSuites?: number;
      };
      expect(summary.success, `inner run:\n${tail(test.log)}`).toBe(true);
      expect(summary.numFailedTests).toBe(0);
      expect(summary.numFailedTestSuites).toBe(0);
      expect(summary.numRuntimeErrorTestSuites ?? 0).toBe(0);
      expect(summary.numPassedTests).toBeGreaterThan(0);
      // The inner run saw no ../shared, and compared against the compact copy.
      expect(output).toMatch(/\.\.\/shared not found beside the repository: \d+ tests in \d+ suites skipped .*; \d+ tests ran over the compact copy in test\/fixtures instead/);

      console.log(
        `fresh clone (${count} files): copy ${copySeconds.toFixed(1)} s, npm ci ${ci.seconds.toFixed(0)} s, ` +
          `npm run demo ${demo.seconds.toFixed(0)} s, npm test ${test.seconds.toFixed(0)} s ` +
          `(${summary.numPassedTests} passed, ${summary.numPendingTests} skipped, ${summary.numFailedTests} failed)`,
      );
    } finally {
      if (!process.env.TINYCAM_FRESH_CLONE_KEEP) rmSync(base, { recursive: true, force: true });
    }
  });
});
