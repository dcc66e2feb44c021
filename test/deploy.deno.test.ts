/** examples/deno (server and script) in Deno, the `deno` npm package's binary. */
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { deploySuite, scriptSuite } from './helpers/deploy-suite.js';
import { startDeployServer } from './helpers/deploy-servers.js';
import { describeRuntime, runtimeBinary, scratchDir } from './helpers/runtimes.js';

describeRuntime('deno', 'the Deno server and script', () => {
  const cache = scratchDir('deno-dir');
  afterAll(() => cache.remove());
  deploySuite({ runtime: 'deno', start: () => startDeployServer('deno') });
  scriptSuite({
    runtime: 'deno',
    entry: 'examples/deno/explain.ts',
    command: (script, input, output) => ({
      command: runtimeBinary('deno')!,
      args: ['run', `--allow-read=${input}`, `--allow-write=${output}`, '--no-prompt', script, input, output],
      env: { DENO_NO_UPDATE_CHECK: '1', DENO_DIR: join(cache.path, 'deno') },
    }),
  });
});
