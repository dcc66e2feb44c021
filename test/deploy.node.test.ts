/** examples/node/server.ts (node:http with a size limit and a timeout) under Node. */
import { expect, it } from 'vitest';
import { deploySuite } from './helpers/deploy-suite.js';
import { startDeployServer } from './helpers/deploy-servers.js';
import { describeRuntime, rawRequest } from './helpers/runtimes.js';

describeRuntime('node', 'the node:http server', () => {
  deploySuite({ runtime: 'node', start: () => startDeployServer('node') });

  it('answers 408 in JSON to an upload that stops arriving, and keeps serving', async () => {
    const server = await startDeployServer('node', { REQUEST_TIMEOUT_MS: '500' });
    try {
      const started = performance.now();
      // Content-Length says 1,000 bytes; 10 arrive, then nothing.
      const slow = await rawRequest(server.url, { body: new Uint8Array(1000), partial: 10 });
      expect(slow.status).toBe(408);
      expect(JSON.parse(slow.body)).toMatchObject({ error: 'timeout' });
      expect(performance.now() - started).toBeLessThan(10_000);
      expect((await rawRequest(server.url, { method: 'GET', path: '/' })).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
