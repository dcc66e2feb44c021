/** examples/vercel-edge in edge-runtime (Vercel's Edge Runtime, from npm), served by its CLI as a fetch-event script. */
import { deploySuite } from './helpers/deploy-suite.js';
import { startDeployServer } from './helpers/deploy-servers.js';
import { describeRuntime } from './helpers/runtimes.js';

describeRuntime('edge-runtime', 'the Vercel Edge Function in edge-runtime', () => {
  deploySuite({ runtime: 'edge-runtime', start: () => startDeployServer('edge-runtime'), streamsUploads: false });
});
