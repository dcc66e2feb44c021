/**
 * `npm run web`: builds the page and serves it on http://127.0.0.1:8080/
 * (PORT and HOST change that; `--no-build` serves web/dist as it is).
 *
 * A small static server of our own: files under the folder only, GET and
 * HEAD only, and the headers that make the page cross-origin isolated
 * (COOP + COEP, so SharedArrayBuffer is there for a worker pool) and keep
 * it to its own files (the same Content-Security-Policy as index.html).
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb, WEB_DIST } from './build.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.safetensors': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
  '.wasm': 'application/wasm',
};

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

/** A static server for `root` (not yet listening). */
export function createStaticServer(root: string): Server {
  const base = resolve(root);
  return createServer((req, res) => {
    const send = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'GET or HEAD only');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad path');
    }
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if (file !== base && !file.startsWith(base + sep)) return send(403, 'outside the site');
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) return send(404, 'not found');
      size = stat.size;
    } catch {
      return send(404, 'not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': size, ...SECURITY_HEADERS });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--no-build')) {
    const started = performance.now();
    await buildWeb();
    console.log(`built web/dist in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.HOST ?? '127.0.0.1';
  createStaticServer(WEB_DIST).listen(port, host, () => console.log(`tinycam explainer: http://${host}:${port}/  (Ctrl-C stops it)`));
}
