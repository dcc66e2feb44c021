/**
 * An HTTP handler on the fetch API (Request in, Response out), the one
 * signature Cloudflare Workers, Vercel Edge Functions, Deno.serve and
 * Bun.serve share; examples/node adapts node:http to it.
 *
 *   POST /explain   body: a PNG or JPEG (at most `maxBytes`)
 *     ?method=gradcam (see METHODS)  ?target=<class index>  ?layer=<module path>
 *     ?format=png     answer with the overlay PNG itself (top-5 in the X-Tinycam-Top5 header)
 *     ?map=1          add the raw map (float32, base64) to the JSON
 *   -> 200 JSON { model, method, layer, target, top5, width, height, overlay (PNG, base64), timings }
 *   -> 413 / 400 / 404 / 405 JSON { error, message } for bad requests; 500 if the explainer itself failed.
 *   GET /  -> what this service does, as JSON.
 *
 * No request can crash the process: every failure becomes a JSON answer.
 */
import { TinycamError } from 'tinycam';
import { decodeImage, encodePng, overlay, ImageDecodeError, ImageLimitError } from 'tinycam/image';
import { explain, mapTensor, METHODS, modelView, toBase64, toInput, topK, type Explainable } from './pipeline.js';

export interface HandlerOptions {
  /** The model, or a function that builds it at the first request (a faster cold start for routes that need no model). */
  subject: Explainable | (() => Explainable);
  /** Largest upload in bytes (default 4 MiB). */
  maxBytes?: number;
  /** Largest picture in pixels, checked from its header before decoding (default 16 megapixels). */
  maxPixels?: number;
  /** Methods a request may ask for (default: all of METHODS). */
  methods?: readonly string[];
  /** Paths that explain (default ['/explain']; Vercel serves a function under /api/<name>). */
  paths?: readonly string[];
}

type Handler = (request: Request) => Promise<Response>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** The request body, refusing more than `limit` bytes whether or not Content-Length says so. */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    throw new HttpError(413, 'too_large', `the upload is ${declared} bytes; at most ${limit} are accepted`);
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, 'too_large', `the upload is more than ${limit} bytes; at most ${limit} are accepted`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return bytes;
}

export function createHandler(options: HandlerOptions): Handler {
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  const maxPixels = options.maxPixels ?? 16e6;
  const methods = options.methods ?? Object.keys(METHODS);
  const paths = options.paths ?? ['/explain'];
  let subject: Explainable | null = typeof options.subject === 'function' ? null : options.subject;
  const getSubject = (): Explainable => (subject ??= (options.subject as () => Explainable)());

  async function explainRequest(request: Request, url: URL): Promise<Response> {
    const started = performance.now();
    const method = url.searchParams.get('method') ?? 'gradcam';
    if (!methods.includes(method)) throw new HttpError(400, 'bad_method', `unknown method '${method}'; accepted: ${methods.join(', ')}`);
    const s = getSubject();
    const targetParam = url.searchParams.get('target');
    let target: number | undefined;
    if (targetParam !== null) {
      target = Number(targetParam);
      const classes = s.labels?.length;
      if (!Number.isInteger(target) || target < 0 || (classes !== undefined && target >= classes)) {
        throw new HttpError(400, 'bad_target', `target must be a class index from 0 to ${(classes ?? Infinity) - 1}; got '${targetParam}'`);
      }
    }
    const layer = url.searchParams.get('layer') ?? undefined;
    if (layer !== undefined && !s.model.getModule(layer)) {
      throw new HttpError(400, 'bad_layer', `the model has no layer '${layer}'; it explains '${s.camLayer ?? '(the last 4-D layer)'}' by default`);
    }

    const bytes = await readLimited(request, maxBytes);
    if (bytes.length === 0) throw new HttpError(400, 'empty', 'send the picture (PNG or JPEG) as the request body');
    const received = performance.now();
    const image = decodeImage(bytes, { maxPixels });
    const seen = modelView(image, s.inputSize);
    const input = toInput(seen, s.normalization);
    const decoded = performance.now();
    const result = explain(s, input, { method, ...(layer !== undefined ? { layer } : {}), ...(target !== undefined ? { target } : {}) });
    const top5 = topK(result.logits, 5, s.labels);
    const png = encodePng(overlay(seen, mapTensor(result)));
    const finished = performance.now();
    const summary = {
      model: s.name,
      method,
      layer: result.layers.join(', '),
      target: result.target,
      targetLabel: result.target === null ? null : (s.labels?.[result.target] ?? `class ${result.target}`),
      top5,
      width: result.width,
      height: result.height,
      timings: { readMs: received - started, decodeMs: decoded - received, explainMs: finished - decoded },
    };
    if (url.searchParams.get('format') === 'png') {
      return new Response(new Uint8Array(png), { status: 200, headers: { 'content-type': 'image/png', 'x-tinycam-top5': JSON.stringify(top5) } });
    }
    const map = url.searchParams.get('map') === '1' ? { map: toBase64(new Uint8Array(result.map.buffer, result.map.byteOffset, result.map.byteLength)) } : {};
    return json(200, { ...summary, overlay: toBase64(png), ...map });
  }

  return async (request: Request): Promise<Response> => {
    try {
      const url = new URL(request.url);
      if (url.pathname === '/' && request.method === 'GET') {
        return json(200, {
          service: 'tinycam explainer',
          usage: `POST ${paths[0]} with a PNG or JPEG as the body; ?method=&target=&layer=&format=png&map=1`,
          methods,
          maxBytes,
          maxPixels,
        });
      }
      if (!paths.includes(url.pathname)) throw new HttpError(404, 'not_found', `no route ${url.pathname}; POST ${paths[0]}`);
      if (request.method !== 'POST') throw new HttpError(405, 'method_not_allowed', `use POST ${paths[0]} (got ${request.method})`);
      return await explainRequest(request, url);
    } catch (e) {
      if (e instanceof HttpError) return json(e.status, { error: e.error, message: e.message });
      if (e instanceof ImageLimitError) return json(413, { error: 'too_large', message: e.message });
      if (e instanceof ImageDecodeError) return json(400, { error: 'bad_image', message: e.message });
      if (e instanceof TinycamError) return json(400, { error: 'bad_request', message: e.message });
      return json(500, { error: 'internal', message: e instanceof Error ? e.message : String(e) });
    }
  };
}
