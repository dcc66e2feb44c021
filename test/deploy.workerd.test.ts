/**
 * examples/cloudflare-worker in workerd (Cloudflare's runtime, from npm), as
 * wrangler would run it: the worker bundled as an ES module, the weights a
 * Data module beside it (test/helpers/deploy-servers.ts).
 */
import { deploySuite } from './helpers/deploy-suite.js';
import { startDeployServer } from './helpers/deploy-servers.js';
import { describeRuntime } from './helpers/runtimes.js';

describeRuntime('workerd', 'the Cloudflare Worker in workerd', () => {
  deploySuite({ runtime: 'workerd', start: () => startDeployServer('workerd') });
});
