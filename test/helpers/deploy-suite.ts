/**
 * The checks every deploy example passes in its own runtime (workerd,
 * edge-runtime, Deno, Bun, Node): the top-5, map and overlay equal what
 * tinycam computes in this Node process for the same pictures, the PNG
 * answer, 100 bad requests answered with 4xx JSON and the server still
 * serving after them, and the cold start and time per explanation measured.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gradCam, softmax, Tensor } from '../../src/index.js';
import { centerCrop, decodeImage, encodePng, overlay, preprocess, resize, shorterSideSize, type RgbaImage } from '../../src/image/index.js';
import { generateScene, DEMO_SEED_BASE, CLASSES } from '../../examples/shapes/generate.js';
import { sceneToImage } from '../../examples/shapes/data.js';
import { loadShapesNet } from '../../examples/shapes/weights.js';
import { SHAPES_WEIGHTS } from './deploy-servers.js';
import { bundle, rawRequest, ROOT, scratchDir, sendSequentially, type RawRequest, type Started } from './runtimes.js';

export { SHAPES_WEIGHTS };

/** The pictures sent: a generated triangle scene (PNG) and a rotated JPEG (EXIF orientation 6, resized and cropped to 64x64). */
export function samplePictures(): { name: string; bytes: Uint8Array }[] {
  const scene = generateScene(DEMO_SEED_BASE + 2);
  return [
    { name: `scene-${CLASSES[scene.label]}.png`, bytes: encodePng(sceneToImage(scene)) },
    { name: 'orient-6.jpg', bytes: new Uint8Array(readFileSync(join(ROOT, 'test/data/images/orient-6.jpg'))) },
  ];
}

export interface NodeReference {
  top5: { index: number; probability: number; logit: number }[];
  map: Float32Array;
  overlayPng: Uint8Array;
}

/** The picture a model of input size [h, w] sees, by plain library calls: shorter side resized, centre-cropped (the CLI's steps). */
export function seenBy(bytes: Uint8Array, [height, width]: [number, number]): RgbaImage {
  const image = decodeImage(bytes);
  const side = Math.max(height, width);
  return centerCrop(resize(image, { ...shorterSideSize(image.width, image.height, side), antialias: true }), { width, height });
}

/** What tinycam computes in this process, with plain library calls (not the examples' pipeline). */
let shapesModel: ReturnType<typeof loadShapesNet>['model'] | undefined;

export function nodeReference(bytes: Uint8Array, target?: number): NodeReference {
  const model = (shapesModel ??= loadShapesNet(new Uint8Array(readFileSync(SHAPES_WEIGHTS))).model);
  const seen = seenBy(bytes, [64, 64]);
  const input = preprocess(seen);
  const result = gradCam(model, input, { layer: 'features.13', ...(target !== undefined ? { target } : {}) });
  const logits = result.logits.data;
  const p = softmax(result.logits, -1).data;
  const top5 = [...logits.keys()].sort((a, b) => logits[b]! - logits[a]!).slice(0, 5).map((index) => ({ index, probability: p[index]!, logit: logits[index]! }));
  const map = result.maps.data.slice();
  return { top5, map, overlayPng: encodePng(overlay(seen, new Tensor(map, [64, 64]))) };
}

const fromBase64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** 100 bad requests of many kinds; each must get a 4xx with a JSON error. */
export function badRequest(i: number, maxBytes: number): RawRequest & { expect: number } {
  const garbage = new Uint8Array(64 + (i % 50)).map((_, k) => (k * 31 + i * 7) & 255);
  const pngHeaderOnly = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0]);
  switch (i % 10) {
    case 0: return { method: 'POST', body: garbage, expect: 400 };
    case 1: return { method: 'POST', body: pngHeaderOnly, expect: 400 }; // a truncated PNG
    case 2: return { method: 'POST', body: new Uint8Array(maxBytes + 1), partial: 1024, expect: 413 }; // refused from its Content-Length
    case 3: return { method: 'POST', body: new Uint8Array(0), expect: 400 };
    case 4: return { method: 'POST', body: new TextEncoder().encode('{"not":"an image"}'), headers: { 'content-type': 'application/json' }, expect: 400 };
    case 5: return { method: 'GET', expect: 405 };
    case 6: return { method: 'POST', path: '/nowhere', body: garbage, expect: 404 };
    case 7: return { method: 'POST', path: '/explain?method=nonsense', body: garbage, expect: 400 };
    case 8: return { method: 'POST', path: '/explain?target=99', body: garbage, expect: 400 };
    default: {
      // A JPEG that starts right and then is noise.
      const jpeg = new Uint8Array(300).map((_, k) => (k * 13 + i) & 255);
      jpeg.set([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00]);
      return { method: 'POST', body: jpeg, expect: 400 };
    }
  }
}

export interface DeploySuiteOptions {
  /** Name in the printed measurements. */
  runtime: string;
  start: () => Promise<Started>;
  maxBytes?: number;
  /**
   * Whether the runtime hands the body to the handler as it arrives (default
   * true). edge-runtime's local server reads the whole request first, so its
   * chunked test sends the whole body.
   */
  streamsUploads?: boolean;
}

/** Registers the suite's tests in the current describe block. */
export function deploySuite(options: DeploySuiteOptions): void {
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  let server: Started | undefined;
  const pictures = samplePictures();
  beforeAll(async () => {
    server = await options.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers GET / with what it does', async () => {
    const response = await rawRequest(server!.url, { method: 'GET', path: '/' });
    expect(response.status).toBe(200);
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({ service: 'tinycam explainer', maxBytes });
    expect(body.methods).toContain('gradcam');
  });

  it("computes Node's top-5, map and overlay for the same pictures", async () => {
    const timings: number[] = [];
    for (const picture of pictures) {
      const reference = nodeReference(picture.bytes);
      const t0 = performance.now();
      const response = await rawRequest(server!.url, { path: '/explain?map=1', body: picture.bytes });
      const body = JSON.parse(response.body);
      timings.push(performance.now() - t0);
      expect(response.status, JSON.stringify(body)).toBe(200);
      expect(body.top5.map((t: { index: number }) => t.index)).toEqual(reference.top5.map((t) => t.index));
      for (const [k, t] of body.top5.entries()) {
        expect(Math.abs(t.logit - reference.top5[k]!.logit)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(reference.top5[k]!.logit)));
        expect(t.label).toBe(CLASSES[t.index]);
      }
      expect(body.target).toBe(reference.top5[0]!.index);
      expect(body.layer).toBe('features.13');
      const map = new Float32Array(fromBase64(body.map).slice().buffer);
      const diff = maxAbsDiff(map, reference.map);
      console.log(`${options.runtime}: ${picture.name} map max |difference| from Node's = ${diff}`);
      expect(diff).toBeLessThanOrEqual(1e-6);
      const overlayPng = fromBase64(body.overlay);
      expect(decodeImage(overlayPng).data).toEqual(decodeImage(reference.overlayPng).data);
    }
    // A chosen class is explained too.
    const reference = nodeReference(pictures[0]!.bytes, 4);
    const chosen = JSON.parse((await rawRequest(server!.url, { path: '/explain?map=1&target=4', body: pictures[0]!.bytes })).body);
    expect(chosen.target).toBe(4);
    expect(maxAbsDiff(new Float32Array(fromBase64(chosen.map).slice().buffer), reference.map)).toBeLessThanOrEqual(1e-6);

    // Times are measured by bench/runtimes.ts; this only reports what the test saw.
    console.log(`${options.runtime}: cold start ${server!.startupMs.toFixed(0)} ms (spawn to first answer), first explanation ${timings[0]!.toFixed(0)} ms`);
  });

  it('answers ?format=png with the overlay PNG and the top-5 in a header', async () => {
    const response = await rawRequest(server!.url, { path: '/explain?format=png', body: pictures[0]!.bytes });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.bytes).toEqual(nodeReference(pictures[0]!.bytes).overlayPng);
    const top5 = JSON.parse(String(response.headers['x-tinycam-top5']));
    expect(top5).toHaveLength(5);
  });

  it('refuses a chunked upload (no Content-Length) as soon as it passes the limit', async () => {
    const body = new Uint8Array(maxBytes + 1);
    const answer = await rawRequest(server!.url, {
      body,
      headers: { 'transfer-encoding': 'chunked' },
      // Sent but not ended: the handler must refuse it from what it has counted.
      ...(options.streamsUploads === false ? {} : { partial: body.length }),
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error).toBe('too_large');
  });

  it('answers 100 bad requests with 4xx JSON errors, then still explains', async () => {
    const statuses = await sendSequentially(server!.url, 100, (i) => {
      const { expect: _expected, ...init } = badRequest(i, maxBytes);
      return init;
    });
    statuses.forEach(({ status, body }, i) => {
      expect(status, `request ${i}: ${body}`).toBe(badRequest(i, maxBytes).expect);
      const parsed = JSON.parse(body);
      expect(typeof parsed.error).toBe('string');
      expect(parsed.message.length).toBeGreaterThan(10);
    });
    const good = await rawRequest(server!.url, { path: '/explain?map=1', body: pictures[0]!.bytes });
    expect(good.status).toBe(200);
    const body = JSON.parse(good.body);
    expect(maxAbsDiff(new Float32Array(fromBase64(body.map).slice().buffer), nodeReference(pictures[0]!.bytes).map)).toBeLessThanOrEqual(1e-6);
  });
}

/**
 * The command-line script of a runtime (examples/<runtime>/explain.ts):
 * bundled, run on a picture; the overlay it writes must be Node's, byte for
 * byte, and it must print Node's top class.
 */
export function scriptSuite(options: { runtime: string; entry: string; command: (script: string, input: string, output: string) => { command: string; args: string[]; env?: Record<string, string> } }): void {
  it(`runs ${options.entry} as a script: Node's overlay and top class`, async () => {
    const dir = scratchDir(`${options.runtime}-script`);
    try {
      const script = join(dir.path, 'explain.mjs');
      await bundle({ entry: join(ROOT, options.entry), outfile: script });
      const picture = samplePictures()[0]!;
      const input = join(dir.path, picture.name);
      const output = join(dir.path, 'overlay.png');
      writeFileSync(input, picture.bytes);
      const { command, args, env } = options.command(script, input, output);
      const started = performance.now();
      const run = spawnSync(command, args, { cwd: dir.path, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', ...env } });
      console.log(`${options.runtime}: the explain script ran in ${(performance.now() - started).toFixed(0)} ms (process start to exit)`);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const reference = nodeReference(picture.bytes);
      expect(run.stdout.split('\n')[0]).toMatch(new RegExp(`^1\\. ${CLASSES[reference.top5[0]!.index]} `));
      expect(new Uint8Array(readFileSync(output))).toEqual(reference.overlayPng);
    } finally {
      dir.remove();
    }
  });
}
