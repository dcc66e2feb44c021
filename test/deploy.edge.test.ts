/** examples/vercel-edge in edge-runtime (Vercel's Edge Runtime, from npm), started as its CLI serves a function. */
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { deploySuite } from './helpers/deploy-suite.js';
import { bundle, describeRuntime, freePort, ROOT, runtimeBinary, scratchDir, startServer } from './helpers/runtimes.js';

describeRuntime('edge-runtime', 'the Vercel Edge Function in edge-runtime', () => {
  const dir = scratchDir('vercel-edge');
  afterAll(() => dir.remove());
  deploySuite({
    runtime: 'edge-runtime',
    start: async () => {
      const script = join(dir.path, 'edge.js');
      await bundle({ entry: join(ROOT, 'examples/vercel-edge/local.ts'), outfile: script, format: 'iife' });
      const port = await freePort();
      return startServer({ command: process.execPath, args: [runtimeBinary('edge-runtime')!, '--listen', script, '--host', '127.0.0.1', '--port', String(port)], port });
    },
  });
});
