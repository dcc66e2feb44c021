/** examples/bun/server.ts in Bun (the `bun` npm package's binary), bundled with tinycam's entry points. */
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { deploySuite } from './helpers/deploy-suite.js';
import { bundle, describeRuntime, freePort, ROOT, runtimeBinary, scratchDir, startServer } from './helpers/runtimes.js';

describeRuntime('bun', 'the Bun server', () => {
  const dir = scratchDir('bun');
  afterAll(() => dir.remove());
  deploySuite({
    runtime: 'bun',
    start: async () => {
      const script = join(dir.path, 'server.mjs');
      await bundle({ entry: join(ROOT, 'examples/bun/server.ts'), outfile: script });
      const port = await freePort();
      return startServer({ command: runtimeBinary('bun')!, args: ['run', script], port, env: { PORT: String(port), BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' } });
    },
  });
});
