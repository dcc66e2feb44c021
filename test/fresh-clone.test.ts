/**
 * The README's quick start on a fresh clone with nothing beside it, kept
 * cheap enough for every CI run: `git clone` of this repository's HEAD into
 * <tmp>/tinycam (so ../shared is <tmp>/shared, which does not exist), with
 * node_modules linked to this checkout's instead of `npm ci`. There
 * `npm run demo` must write out/demo.png (a PNG the size of the README's
 * picture, with the heat-map's colours in it), and the suites that read
 * reference data must pass over the compact copy in test/fixtures, the full
 * suites skipped with the reporter's one line naming ../shared.
 *
 * The inner run names its files (not this one) and sets
 * TINYCAM_FRESH_CLONE_INNER, which skips this file: it never recurses.
 * Only committed work is cloned; uncommitted changes are not in the clone.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/image/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const INNER = 'TINYCAM_FRESH_CLONE_INNER';

/**
 * The inner run: every kind of reference use, cheaply. Compact copy: the
 * engine and the CAM methods against PyTorch, ONNX conformance, the model zoo;
 * absent: fixtures2 (describeShared), whose skip line the reporter prints.
 */
const INNER_FILES = [
  'test/engine.fixtures.test.ts',
  'test/onnx.converted.test.ts',
  'test/onnx.fixtures2.test.ts',
  'test/cam.smooth.test.ts',
  'test/image.colour.test.ts',
];

interface Step {
  code: number | null;
  seconds: number;
  output: string;
}

/** Runs a command to completion without blocking this worker; its output goes to `log` too. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, log: string): Promise<Step> {
  const start = performance.now();
  return new Promise((done, fail) => {
    const out = createWriteStream(log);
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', fail);
    child.on('close', (code) =>
      out.end(() => done({ code, seconds: (performance.now() - start) / 1000, output: readFileSync(log, 'utf8') })),
    );
  });
}

const tail = (text: string, lines = 60): string => text.split('\n').slice(-lines).join('\n');

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

/** Pixels whose colour is far from grey: the heat-map and overlay columns. */
function colourfulFraction(data: ArrayLike<number>): number {
  let colourful = 0;
  for (let i = 0; i < data.length; i += 4) {
    const r = data[i]!;
    const g = data[i + 1]!;
    const b = data[i + 2]!;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 64) colourful++;
  }
  return colourful / (data.length / 4);
}

describe.skipIf(process.env[INNER])('a fresh clone with nothing beside it (the README\'s quick start)', () => {
  it('clones HEAD, runs npm run demo (out/demo.png) and the reference suites over the compact copy', { timeout: 300_000 }, async () => {
    const base = mkdtempSync(join(tmpdir(), 'tinycam-fresh-'));
    const clone = join(base, 'tinycam');
    try {
      const env = userEnv({ [INNER]: '1' });
      const cloned = await run('git', ['clone', '--quiet', '--shared', ROOT, clone], base, env, join(base, 'clone.log'));
      expect(cloned.code, `git clone failed:\n${tail(cloned.output)}`).toBe(0);
      expect(existsSync(join(base, 'shared')), 'nothing beside the clone').toBe(false);
      symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');

      const demo = await run('npm', ['run', 'demo'], clone, env, join(base, 'demo.log'));
      expect(demo.code, `npm run demo failed:\n${tail(demo.output)}`).toBe(0);
      const png = decodeImage(new Uint8Array(readFileSync(join(clone, 'out/demo.png'))));
      const readme = decodeImage(new Uint8Array(readFileSync(join(ROOT, 'docs/images/demo.png'))));
      expect([png.width, png.height]).toEqual([readme.width, readme.height]);
      // Scenes on a dark background are grey; the JET maps and overlays are not.
      expect(colourfulFraction(png.data)).toBeGreaterThan(0.1);

      const tests = await run(
        'npx',
        ['vitest', 'run', '--project', 'js', '--maxWorkers', '1', '--reporter', 'default', '--reporter', './test/helpers/reference-reporter.ts', ...INNER_FILES],
        clone,
        env,
        join(base, 'vitest.log'),
      );
      expect(tests.code, `the reference suites failed in the fresh clone:\n${tail(tests.output)}`).toBe(0);
      // One line for what ../shared would have added, with counts; and the compact copy was used.
      expect(tests.output).toMatch(
        /\.\.\/shared not found beside the repository: \d+ tests in \d+ suites skipped \([^)]*\bfixtures2 \d+[^)]*\); \d+ tests ran over the compact copy in test\/fixtures instead/,
      );
      console.log(
        `fresh clone: git clone ${cloned.seconds.toFixed(1)} s, npm run demo ${demo.seconds.toFixed(1)} s, ` +
          `${INNER_FILES.length} reference test files ${tests.seconds.toFixed(1)} s\n` +
          tail(tests.output, 8),
      );
    } finally {
      if (!process.env.TINYCAM_FRESH_CLONE_KEEP) rmSync(base, { recursive: true, force: true });
    }
  });
});
