/**
 * Bun: `Bun.serve` with the shared handler.
 *
 *   npx tsx tools/bundle.ts examples/bun/server.ts out/bun-server.mjs
 *   npx bun out/bun-server.mjs        # PORT=8787 by default
 */
import weights from '../shapes/shapes-cnn.safetensors';
import { createHandler } from '../explainer/handler.js';
import { shapesExplainable } from '../explainer/shapes.js';

declare const Bun: {
  serve(options: { port: number; hostname: string; fetch: (request: Request) => Promise<Response> }): { port: number };
  env: Record<string, string | undefined>;
};

const handle = createHandler({ subject: () => shapesExplainable(weights) });
const server = Bun.serve({ port: Number(Bun.env.PORT ?? 8787), hostname: '127.0.0.1', fetch: handle });
console.log(`tinycam explainer on http://127.0.0.1:${server.port}/ (POST /explain)`);
