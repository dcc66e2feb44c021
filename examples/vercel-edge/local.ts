/**
 * The edge function under `edge-runtime` (Vercel's Edge Runtime, from npm) on
 * your machine: edge-runtime takes a classic script that listens for fetch
 * events, so this wraps the function's default export in one.
 *
 *   npx tsx tools/bundle.ts examples/vercel-edge/local.ts out/edge.js --iife
 *   npx edge-runtime --listen out/edge.js --host 127.0.0.1 --port 8787
 */
import handler from './api/explain.js';

interface FetchEvent {
  request: Request;
  respondWith(response: Promise<Response>): void;
}
declare function addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;

addEventListener('fetch', (event) => event.respondWith(handler(event.request)));
