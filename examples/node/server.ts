/**
 * Node: a node:http server (no framework) around the shared fetch-style
 * handler, with the limits a public endpoint needs:
 *
 * - the upload is counted as it arrives and refused with 413 past
 *   `maxBytes` (Content-Length is checked first, chunked bodies as they come);
 * - a request must arrive whole within `requestTimeoutMs` (slow senders get
 *   408), and idle connections are closed;
 * - every error becomes a JSON answer; nothing a client sends ends the process.
 *
 *   npx tsx examples/node/server.ts          # PORT=8787, HOST=127.0.0.1
 *   npx tsx tools/bundle.ts examples/node/server.ts out/node-server.mjs --platform=node
 *   SHAPES_WEIGHTS=examples/shapes/shapes-cnn.safetensors node out/node-server.mjs
 *
 * The explanation itself runs on the event loop (about a millisecond for the
 * shapes model); for large models, run it in a worker_thread.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHandler } from '../explainer/handler.js';
import { shapesExplainable } from '../explainer/shapes.js';

export interface NodeServerOptions {
  /** shapes-cnn.safetensors, or another model's bytes through `subject`. */
  weights: Uint8Array;
  maxBytes?: number;
  requestTimeoutMs?: number;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(JSON.stringify(body));
};

/** The body, refused past `limit` bytes (413) or if it does not arrive in time (408). */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(Object.assign(new Error(`the upload is ${declared} bytes; at most ${limit} are accepted`), { status: 413, error: 'too_large' }));
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      req.removeAllListeners('data');
      reject(Object.assign(new Error(`the upload did not arrive within ${timeoutMs} ms`), { status: 408, error: 'timeout' }));
    }, timeoutMs);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        clearTimeout(timer);
        req.removeAllListeners('data');
        reject(Object.assign(new Error(`the upload is more than ${limit} bytes; at most ${limit} are accepted`), { status: 413, error: 'too_large' }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(new Uint8Array(Buffer.concat(chunks)));
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export function createExplainServer(options: NodeServerOptions): Server {
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const handle = createHandler({ subject: () => shapesExplainable(options.weights), maxBytes });

  const server = createServer(async (req, res) => {
    try {
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req, maxBytes, requestTimeoutMs);
      const request = new Request(new URL(req.url ?? '/', 'http://localhost'), {
        method: req.method ?? 'GET',
        headers: Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(', ') : v] as [string, string]])),
        ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
      });
      const response = await handle(request);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      res.writeHead(response.status, headers);
      res.end(new Uint8Array(await response.arrayBuffer()));
    } catch (e) {
      const err = e as Error & { status?: number; error?: string };
      json(res, err.status ?? 500, { error: err.error ?? 'internal', message: err.message });
      // An upload refused half-way is not read further: close the connection once the answer is out.
      if (err.status) res.on('finish', () => req.socket.destroy());
    }
  });
  // Whole requests within the timeout (headers included; Node's own 408 a second after ours, which answers in JSON); idle keep-alive sockets closed.
  server.requestTimeout = requestTimeoutMs + 1_000;
  server.headersTimeout = Math.min(requestTimeoutMs, 10_000);
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":"bad_request","message":"malformed HTTP request"}');
    else socket.destroy();
  });
  return server;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // SHAPES_WEIGHTS: where the weights are when this file runs from a bundle elsewhere.
  const weights = new Uint8Array(readFileSync(process.env.SHAPES_WEIGHTS ?? new URL('../shapes/shapes-cnn.safetensors', import.meta.url)));
  const port = Number(process.env.PORT ?? 8787);
  const host = process.env.HOST ?? '127.0.0.1';
  const requestTimeoutMs = Number(process.env.REQUEST_TIMEOUT_MS ?? 10_000);
  createExplainServer({ weights, requestTimeoutMs }).listen(port, host, () => console.log(`tinycam explainer on http://${host}:${port}/ (POST /explain)`));
}
