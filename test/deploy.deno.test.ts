/** examples/deno/server.ts in Deno (the `deno` npm package's binary), bundled with tinycam's entry points. */
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { deploySuite } from './helpers/deploy-suite.js';
import { bundle, describeRuntime, freePort, ROOT, runtimeBinary, scratchDir, startServer } from './helpers/runtimes.js';

describeRuntime('deno', 'the Deno server', () => {
  const dir = scratchDir('deno');
  afterAll(() => dir.remove());
  deploySuite({
    runtime: 'deno',
    start: async () => {
      const script = join(dir.path, 'server.mjs');
      await bundle({ entry: join(ROOT, 'examples/deno/server.ts'), outfile: script });
      const port = await freePort();
      return startServer({
        command: runtimeBinary('deno')!,
        args: ['run', '--allow-net=127.0.0.1', '--allow-env=PORT', '--no-prompt', script],
        port,
        env: { PORT: String(port), DENO_NO_UPDATE_CHECK: '1', DENO_DIR: join(dir.path, 'deno-dir') },
      });
    },
  });
});
