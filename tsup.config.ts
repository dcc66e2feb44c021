import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Options } from 'tsup';

/**
 * One build, several entry points. The core (`tinycam`) and the
 * browser/edge-safe entries are bundled without Node built-ins; `node` and
 * the CLI are the only entries that may use them.
 *
 * No `keepNames`: it adds a `__name(...)` call after every function and class
 * that bundlers must keep (an app importing only gradCam grew from 22 KB to
 * 95 KB minified). Names that messages and `Module.typeName` show come from
 * each class's `static typeName` instead.
 */
/** The library's entries (exported so test/package.bundle.test.ts builds exactly this). */
export const libraryBuild = {
  entry: {
    index: 'src/index.ts',
    image: 'src/image/index.ts',
    onnx: 'src/onnx/index.ts',
    tfjs: 'src/tfjs/index.ts',
    models: 'src/models/index.ts',
    ndarray: 'src/ndarray/index.ts',
    node: 'src/node/index.ts',
    worker: 'src/parallel/index.ts',
    // The script each worker thread of tinycam/node's createWorkerPool runs.
    'node-worker': 'src/node/worker-entry.ts',
    // The script each helper thread of setBackend('wasm', { threads, spawnThread: spawnKernelThread }) runs.
    'kernel-thread': 'src/node/kernel-thread-entry.ts',
  },
  format: ['esm', 'cjs'] as Options['format'],
  dts: true,
  // No source maps: the output is unminified and readable, and its maps (they embed the
  // sources) were 3.3 MB of the 6 MB tarball. See "What the npm package holds" in the README.
  sourcemap: false,
  clean: true,
  target: 'es2022',
  splitting: true,
  treeshake: true,
  onSuccess: async () => {
    dropRedundantChunkImports('dist');
    // tinycam/kernels.wasm: the precompiled kernels for platforms without run-time compilation.
    copyFileSync('src/tensor/kernels/wasm/kernels.wasm', 'dist/kernels.wasm');
  },
} satisfies Options;

export default defineConfig([
  libraryBuild,
  {
    // cli-worker: the script each worker thread of `tinycam explain --jobs N` runs (src/cli/jobs.ts finds it beside cli.js).
    entry: { cli: 'src/cli/main.ts', 'cli-worker': 'src/cli/jobs-worker.ts' },
    format: ['esm'],
    target: 'node18',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
    sourcemap: false,
  },
]);

/**
 * esbuild's code splitting adds `import './chunk-X.js';` to an entry for
 * every chunk its modules live in, even when a named import already loads
 * that chunk. The package declares `"sideEffects": false`, so consumers'
 * bundlers drop those imports and esbuild warns (ignored-bare-import) once
 * per chunk. Remove each bare chunk import that another import of the same
 * file already reaches (so evaluation in plain Node is unchanged: the chunk
 * still loads before anything from it runs); keep any that is not, so a
 * chunk with real side effects would still show up in the bundle test.
 * The line is blanked, not deleted, so the source maps stay aligned.
 */
export function dropRedundantChunkImports(dir: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
  const named = new Map<string, string[]>();
  const source = new Map<string, string>();
  const fromClause = /^(?:import|export)\s*\{[^}]*\}\s*from\s*'\.\/([^']+)';$/gm;
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    source.set(f, text);
    named.set(f, [...text.matchAll(fromClause)].map((m) => m[1]!));
  }
  const reach = (start: string[]): Set<string> => {
    const seen = new Set<string>();
    const stack = [...start];
    while (stack.length) {
      const f = stack.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      stack.push(...(named.get(f) ?? []));
    }
    return seen;
  };
  for (const f of files) {
    const text = source.get(f)!;
    const reached = reach(named.get(f)!);
    const out = text.replace(/^import '\.\/(chunk-[^']+\.js)';$/gm, (line, chunk: string) => (reached.has(chunk) ? '' : line));
    if (out !== text) writeFileSync(join(dir, f), out);
  }
}
