/**
 * Deno: `Deno.serve` with the shared handler. Bundle it first (tinycam's
 * entry points resolve to the repository's source), then run it:
 *
 *   npx tsx tools/bundle.ts examples/deno/server.ts out/deno-server.mjs
 *   npx deno run --allow-net --allow-env out/deno-server.mjs     # PORT=8787 by default
 */
import weights from '../shapes/shapes-cnn.safetensors';
import { createHandler } from '../explainer/handler.js';
import { shapesExplainable } from '../explainer/shapes.js';

declare const Deno: {
  serve(options: { port: number; hostname: string; onListen?: (addr: { port: number }) => void }, handler: (request: Request) => Promise<Response>): unknown;
  env: { get(name: string): string | undefined };
};

const handle = createHandler({ subject: () => shapesExplainable(weights) });
const port = Number(Deno.env.get('PORT') ?? 8787);
Deno.serve({ port, hostname: '127.0.0.1', onListen: ({ port }) => console.log(`tinycam explainer on http://127.0.0.1:${port}/ (POST /explain)`) }, handle);
