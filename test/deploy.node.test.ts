/** examples/node/server.ts (node:http with a size limit and a timeout) under Node. */
import { deploySuite } from './helpers/deploy-suite.js';
import { startDeployServer } from './helpers/deploy-servers.js';
import { describeRuntime } from './helpers/runtimes.js';

describeRuntime('node', 'the node:http server', () => {
  deploySuite({ runtime: 'node', start: () => startDeployServer('node') });
});
