/**
 * Bundle a script that imports tinycam by its entry points ('tinycam',
 * 'tinycam/image', 'tinycam/onnx', 'tinycam/models') from this repository's
 * source, with esbuild: the web page, the deploy examples and the runtime
 * tests all build this way, so each runs the library exactly as the
 * package's entries expose it, without `npm run build` first.
 *
 *   npx tsx tools/bundle.ts examples/deno/server.ts out/deno-server.mjs [--platform=neutral|browser|node]
 *
 * Model weights (`*.safetensors`) are embedded as bytes (esbuild's binary
 * loader: `import weights from './x.safetensors'` gives a Uint8Array), unless
 * `externalData` is set, when they stay imports for the runtime to provide
 * (Cloudflare's Data modules).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The package's entry points, as tsup.config.ts builds them, mapped to their source. */
export const TINYCAM_ENTRIES: Readonly<Record<string, string>> = {
  tinycam: join(ROOT, 'src/index.ts'),
  'tinycam/image': join(ROOT, 'src/image/index.ts'),
  'tinycam/onnx': join(ROOT, 'src/onnx/index.ts'),
  'tinycam/models': join(ROOT, 'src/models/index.ts'),
  'tinycam/node': join(ROOT, 'src/node/index.ts'),
};

export interface BundleOptions {
  entry: string;
  outfile: string;
  /** 'neutral' for workers and edge runtimes (no Node built-ins resolve), 'browser', or 'node'. Default 'neutral'. */
  platform?: 'neutral' | 'browser' | 'node';
  /** 'esm' (default) or 'iife' (a classic script, for runtimes that take one). */
  format?: 'esm' | 'iife';
  /** Leave `*.safetensors` imports to the runtime (Cloudflare Data modules) instead of embedding them. */
  externalData?: boolean;
  /**
   * Imports left for the runtime to provide, by exact specifier, each
   * rewritten to the module name the runtime knows it by, as wrangler does
   * for a CompiledWasm module: `{ 'tinycam/kernels.wasm': './kernels.wasm' }`.
   */
  external?: Record<string, string>;
  minify?: boolean;
  sourcemap?: boolean;
  /** Replace identifiers at build time (esbuild's `define`). */
  define?: Record<string, string>;
}

/**
 * Leaves the given specifiers as imports under their new names. A plugin
 * rather than esbuild's `external`, which would see 'tinycam/kernels.wasm'
 * only after the 'tinycam' alias had rewritten it into a path under
 * src/index.ts.
 */
function runtimeProvided(renames: Readonly<Record<string, string>>): Plugin {
  const filter = new RegExp(`^(${Object.keys(renames).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
  return { name: 'runtime-provided', setup: (b) => b.onResolve({ filter }, (args) => ({ path: renames[args.path] ?? args.path, external: true })) };
}

/** Bundles `entry` into one file; returns esbuild's metafile (inputs and outputs with sizes). */
export async function bundle(options: BundleOptions): Promise<Metafile> {
  const platform = options.platform ?? 'neutral';
  const config: BuildOptions = {
    entryPoints: [options.entry],
    outfile: options.outfile,
    bundle: true,
    format: options.format ?? 'esm',
    platform,
    // 'neutral' resolves no package 'main' fields by default; ours have them.
    mainFields: platform === 'node' ? ['module', 'main'] : ['browser', 'module', 'main'],
    conditions: platform === 'node' ? ['node', 'import'] : ['worker', 'browser', 'import'],
    target: 'es2022',
    alias: { ...TINYCAM_ENTRIES },
    // Module.typeName reads class names; esbuild would rename colliding ones (tsup sets this too).
    keepNames: true,
    minify: options.minify ?? false,
    sourcemap: options.sourcemap ?? false,
    metafile: true,
    logLevel: 'silent',
    loader: options.externalData ? {} : { '.safetensors': 'binary' },
    external: options.externalData ? ['*.safetensors'] : [],
    plugins: options.external && Object.keys(options.external).length > 0 ? [runtimeProvided(options.external)] : [],
    define: options.define ?? {},
  };
  const result = await build(config);
  return result.metafile!;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [entry, outfile, ...flags] = process.argv.slice(2);
  if (!entry || !outfile) {
    console.error('usage: npx tsx tools/bundle.ts <entry.ts> <out.mjs> [--platform=neutral|browser|node] [--iife] [--external-data] [--minify]');
    process.exit(2);
  }
  const platform = flags.find((f) => f.startsWith('--platform='))?.slice('--platform='.length) as BundleOptions['platform'];
  const meta = await bundle({
    entry,
    outfile,
    ...(platform ? { platform } : {}),
    format: flags.includes('--iife') ? 'iife' : 'esm',
    externalData: flags.includes('--external-data'),
    minify: flags.includes('--minify'),
  });
  for (const [file, out] of Object.entries(meta.outputs)) console.log(`${file}  ${(out.bytes / 1024).toFixed(0)} KiB`);
}
