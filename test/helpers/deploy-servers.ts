/**
 * How each deploy example is started in its runtime, for the tests and for
 * bench/runtimes.ts: bundled with tinycam's entry points from source (as a
 * user's bundler or wrangler would), then served on a free port of 127.0.0.1.
 */
import { join } from 'node:path';
import { bundle, freePort, ROOT, runtimeBinary, startInScratch, startServer, startWorkerd, type RuntimeName, type Started } from './runtimes.js';

export const SHAPES_WEIGHTS = join(ROOT, 'examples/shapes/shapes-cnn.safetensors');
/** What the package ships as `tinycam/kernels.wasm` (tsup copies it into dist/). */
export const KERNELS_WASM = join(ROOT, 'src/tensor/kernels/wasm/kernels.wasm');

export type DeployRuntime = Extract<RuntimeName, 'node' | 'workerd' | 'edge-runtime' | 'deno' | 'bun'>;
export const DEPLOY_RUNTIMES: readonly DeployRuntime[] = ['node', 'workerd', 'edge-runtime', 'deno', 'bun'];

/** Starts the runtime's example server; `stop()` also removes its scratch folder. */
export async function startDeployServer(runtime: DeployRuntime, env: Record<string, string> = {}): Promise<Started> {
  return startInScratch(`deploy-${runtime}`, (dir) => start(runtime, dir, join(dir, runtime === 'edge-runtime' ? 'edge.js' : 'server.mjs'), env));
}

async function start(runtime: DeployRuntime, dir: string, script: string, env: Record<string, string>): Promise<Started> {
  switch (runtime) {
    case 'workerd':
      // As wrangler deploys it: the worker as an ES module, the weights as a Data module.
      await bundle({ entry: join(ROOT, 'examples/cloudflare-worker/src/worker.ts'), outfile: script, externalData: true });
      return startWorkerd({
        modules: [
          // Named by their paths in the repository, so the worker's '../../shapes/…' import resolves as in the source.
          { name: 'examples/cloudflare-worker/src/worker.mjs', path: script, kind: 'esModule' },
          { name: 'examples/shapes/shapes-cnn.safetensors', path: SHAPES_WEIGHTS, kind: 'data' },
        ],
      });
    case 'edge-runtime': {
      // edge-runtime's CLI serves a classic script that listens for fetch events.
      await bundle({ entry: join(ROOT, 'examples/vercel-edge/local.ts'), outfile: script, format: 'iife' });
      const port = await freePort();
      return startServer({ command: process.execPath, args: [runtimeBinary('edge-runtime')!, '--listen', script, '--host', '127.0.0.1', '--port', String(port)], port });
    }
    case 'deno': {
      await bundle({ entry: join(ROOT, 'examples/deno/server.ts'), outfile: script });
      const port = await freePort();
      return startServer({
        command: runtimeBinary('deno')!,
        args: ['run', '--allow-net=127.0.0.1', '--allow-env=PORT', '--no-prompt', script],
        port,
        env: { PORT: String(port), DENO_NO_UPDATE_CHECK: '1', DENO_DIR: join(dir, 'deno-dir') },
      });
    }
    case 'bun': {
      await bundle({ entry: join(ROOT, 'examples/bun/server.ts'), outfile: script });
      const port = await freePort();
      return startServer({ command: runtimeBinary('bun')!, args: ['run', script], port, env: { PORT: String(port) } });
    }
    case 'node': {
      // Bundled like the others, so the cold starts compare (`npx tsx examples/node/server.ts` runs the same file from source).
      await bundle({ entry: join(ROOT, 'examples/node/server.ts'), outfile: script, platform: 'node' });
      const port = await freePort();
      return startServer({ command: process.execPath, args: [script], port, env: { PORT: String(port), HOST: '127.0.0.1', SHAPES_WEIGHTS, ...env } });
    }
  }
}

/**
 * examples/cloudflare-worker/src/worker-wasm.ts in workerd, as wrangler
 * deploys it: the worker an ES module, the weights a Data module, and
 * `tinycam/kernels.wasm` a CompiledWasm module (workerd hands the worker a
 * WebAssembly.Module; it cannot compile one at run time).
 */
export async function startWorkerdWasm(): Promise<Started> {
  return startInScratch('deploy-workerd-wasm', async (dir) => {
    const script = join(dir, 'worker-wasm.mjs');
    await bundle({ entry: join(ROOT, 'examples/cloudflare-worker/src/worker-wasm.ts'), outfile: script, externalData: true,
      // As wrangler does: the import renamed to the CompiledWasm module it uploads beside the worker.
      external: { 'tinycam/kernels.wasm': './kernels.wasm' },
    });
    return startWorkerd({
      modules: [
        { name: 'examples/cloudflare-worker/src/worker-wasm.mjs', path: script, kind: 'esModule' },
        { name: 'examples/shapes/shapes-cnn.safetensors', path: SHAPES_WEIGHTS, kind: 'data' },
        { name: 'examples/cloudflare-worker/src/kernels.wasm', path: KERNELS_WASM, kind: 'wasm' },
      ],
    });
  });
}
