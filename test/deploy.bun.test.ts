/** examples/bun (server and script) in Bun, the `bun` npm package's binary. */
import { deploySuite, scriptSuite } from './helpers/deploy-suite.js';
import { startDeployServer } from './helpers/deploy-servers.js';
import { describeRuntime, runtimeBinary } from './helpers/runtimes.js';

describeRuntime('bun', 'the Bun server and script', () => {
  deploySuite({ runtime: 'bun', start: () => startDeployServer('bun') });
  scriptSuite({
    runtime: 'bun',
    entry: 'examples/bun/explain.ts',
    command: (script, input, output) => ({ command: runtimeBinary('bun')!, args: ['run', script, input, output] }),
  });
});
