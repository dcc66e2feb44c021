/**
 * examples/node/server.ts under Node, bundled as the other runtimes' servers
 * are (so its cold start compares with theirs; `npx tsx examples/node/server.ts`
 * runs the same file from source).
 */
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { deploySuite, SHAPES_WEIGHTS } from './helpers/deploy-suite.js';
import { bundle, describeRuntime, freePort, ROOT, scratchDir, startServer } from './helpers/runtimes.js';

describeRuntime('node', 'the node:http server', () => {
  const dir = scratchDir('node-server');
  afterAll(() => dir.remove());
  deploySuite({
    runtime: 'node',
    start: async () => {
      const script = join(dir.path, 'server.mjs');
      await bundle({ entry: join(ROOT, 'examples/node/server.ts'), outfile: script, platform: 'node' });
      const port = await freePort();
      return startServer({ command: process.execPath, args: [script], port, env: { PORT: String(port), HOST: '127.0.0.1', SHAPES_WEIGHTS } });
    },
  });
});
