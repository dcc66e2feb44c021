/**
 * examples/cloudflare-worker in workerd (Cloudflare's runtime, from npm), as
 * wrangler would run it: the worker bundled as an ES module, the weights a
 * Data module beside it.
 */
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { deploySuite, SHAPES_WEIGHTS } from './helpers/deploy-suite.js';
import { bundle, describeRuntime, ROOT, scratchDir, startWorkerd } from './helpers/runtimes.js';

describeRuntime('workerd', 'the Cloudflare Worker in workerd', () => {
  const dir = scratchDir('cf-worker');
  afterAll(() => dir.remove());
  deploySuite({
    runtime: 'workerd',
    start: async () => {
      const worker = join(dir.path, 'worker.mjs');
      await bundle({ entry: join(ROOT, 'examples/cloudflare-worker/src/worker.ts'), outfile: worker, externalData: true });
      return startWorkerd({
        modules: [
          // Named by their paths in the repository, so the worker's '../../shapes/…' import resolves as in the source.
          { name: 'examples/cloudflare-worker/src/worker.mjs', path: worker, kind: 'esModule' },
          { name: 'examples/shapes/shapes-cnn.safetensors', path: SHAPES_WEIGHTS, kind: 'data' },
        ],
      });
    },
  });
});
