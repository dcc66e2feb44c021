/**
 * The web page (web/) in headless Chromium, driven by puppeteer-core: built
 * with `build:web`'s code, served by `npm run web`'s server on 127.0.0.1.
 * What the page computes in its worker must equal what tinycam computes in
 * this Node process; the page must fetch nothing but its own files and log
 * no console error.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gradCam, scoreCam, Tensor } from '../src/index.js';
import { decodeImage, encodePng, overlay, preprocess } from '../src/image/index.js';
import { loadOnnx } from '../src/onnx/index.js';
import { sceneToImage } from '../examples/shapes/data.js';
import { DEMO_SEED_BASE, generateScene, CLASSES } from '../examples/shapes/generate.js';
import { buildWeb } from '../web/build.js';
import { createStaticServer } from '../web/serve.js';
import { maxAbsDiff, nodeReference, seenBy, SHAPES_WEIGHTS } from './helpers/deploy-suite.js';
import { describeRuntime, launchChromium, ROOT, scratchDir } from './helpers/runtimes.js';
import { referenceData, referencePath } from './helpers/shared.js';
import { onnxModel } from './onnx.builder.js';

interface PageResult {
  width: number;
  height: number;
  target: number | null;
  layers: string[];
  map: number[];
}

describeRuntime('chromium', 'the web page in headless Chromium', () => {
  const dir = scratchDir('web');
  let server: Server;
  let origin: string;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const outside: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const started = performance.now();
    await buildWeb(join(dir.path, 'site'));
    server = createStaticServer(join(dir.path, 'site'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    chromium = await launchChromium();
    page = await chromium.browser.newPage();
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(`${origin}/`) && !url.startsWith('blob:') && !url.startsWith('data:')) outside.push(url);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(`${origin}/`);
    await waitForMaps(page, ['gradcam']);
    console.log(`web page: built, served and first map shown in ${(performance.now() - started).toFixed(0)} ms`);
  });

  afterAll(async () => {
    await chromium?.stop();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
    dir.remove();
  });

  const results = (): Promise<Record<string, PageResult>> => page.evaluate(() => (globalThis as any).tinycamPage.results());
  const top = (): Promise<{ index: number; probability: number; logit: number; label: string }[]> => page.evaluate(() => (globalThis as any).tinycamPage.top());

  it("shows the built-in model's top 5 and Grad-CAM for the first scene, equal to Node's", async () => {
    const png = encodePng(sceneToImage(generateScene(DEMO_SEED_BASE)));
    const reference = nodeReference(png);
    const shown = await top();
    expect(shown.map((t) => t.index)).toEqual(reference.top5.map((t) => t.index));
    expect(shown.map((t) => t.label)).toEqual(reference.top5.map((t) => CLASSES[t.index]));
    shown.forEach((t, k) => expect(Math.abs(t.logit - reference.top5[k]!.logit)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(t.logit))));
    const { gradcam } = await results();
    expect(gradcam!.layers).toEqual(['features.13']);
    const diff = maxAbsDiff(Float32Array.from(gradcam!.map), reference.map);
    console.log(`web page (Chromium): Grad-CAM map max |difference| from Node's = ${diff}`);
    expect(diff).toBeLessThanOrEqual(1e-6);
    const layerOptions = await page.$$eval('#layer option', (options) => options.map((o) => o.textContent));
    expect(layerOptions).toContain('features.13  ReLU [1, 32, 16, 16]');
  });

  it('draws the overlay: a screenshot of the card shows the pixels tinycam/image blends', async () => {
    const png = encodePng(sceneToImage(generateScene(DEMO_SEED_BASE)));
    const expected = decodeImage(nodeReference(png).overlayPng);
    await page.$eval('#opacity', (el) => ((el as HTMLInputElement).value = '0.4'));
    const card = await page.$('#results .card[data-method="gradcam"] canvas');
    const shot = decodeImage(new Uint8Array(await card!.screenshot({ type: 'png' })));
    // The 64x64 canvas is shown 4x larger with pixelated scaling: sample each block's centre.
    expect(shot.width).toBe(256);
    let sum = 0;
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        const s = ((y * 4 + 2) * shot.width + x * 4 + 2) * 4;
        const e = (y * 64 + x) * 4;
        for (let c = 0; c < 3; c++) sum += Math.abs(shot.data[s + c]! - expected.data[e + c]!);
      }
    }
    const mean = sum / (64 * 64 * 3);
    console.log(`web page: screenshot of the overlay vs tinycam/image's overlay, mean |difference| ${mean.toFixed(3)} per channel (0-255)`);
    expect(mean).toBeLessThan(2);
  });

  it('re-blends with the opacity slider, and offers each overlay as a PNG download', async () => {
    await page.$eval('#opacity', (el) => {
      (el as HTMLInputElement).value = '0.7';
      el.dispatchEvent(new Event('input'));
    });
    const png = encodePng(sceneToImage(generateScene(DEMO_SEED_BASE)));
    const seen = decodeImage(png);
    const expected = overlay(seen, new Tensor(nodeReference(png).map, [64, 64]), { alpha: 0.7 });
    const pixels = await page.$eval('#results .card[data-method="gradcam"] canvas', (c) => {
      const canvas = c as HTMLCanvasElement;
      return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data);
    });
    expect(Uint8ClampedArray.from(pixels)).toEqual(expected.data);
    const link = await page.$eval('#results .card[data-method="gradcam"] a.download', (a) => ({ href: (a as HTMLAnchorElement).href, download: (a as HTMLAnchorElement).download }));
    expect(link.href).toMatch(/^blob:/);
    expect(link.download).toBe(`scene-${DEMO_SEED_BASE}-${CLASSES[generateScene(DEMO_SEED_BASE).label]}-gradcam.png`);
  });

  it("takes a dropped picture; Score-CAM shows progress and equals Node's", async () => {
    const bytes = new Uint8Array(readFileSync(join(ROOT, 'test/data/images/orient-6.jpg')));
    await dropFiles(page, [{ name: 'orient-6.jpg', bytes }]);
    await waitForMaps(page, ['gradcam']);
    const reference = nodeReference(bytes);
    expect((await top()).map((t) => t.index)).toEqual(reference.top5.map((t) => t.index));
    expect(maxAbsDiff(Float32Array.from((await results()).gradcam!.map), reference.map)).toBeLessThanOrEqual(1e-6);

    // Score-CAM: several forward passes, with a progress bar while they run.
    await page.click('#methods input[value="scorecam"]');
    await page.evaluate(() => {
      const bar = document.getElementById('progress')!;
      (globalThis as any).progressSeen = [];
      new MutationObserver(() => (globalThis as any).progressSeen.push((bar as HTMLProgressElement).value)).observe(bar, { attributes: true });
    });
    await page.click('#explain');
    await waitForMaps(page, ['gradcam', 'scorecam']);
    const progress: number[] = await page.evaluate(() => (globalThis as any).progressSeen);
    expect(progress.length).toBeGreaterThan(0);
    expect(await page.$eval('#progress-text', (p) => p.textContent)).toBe('Score-CAM: 32 / 32 masked inputs scored');

    const { model } = (await import('../examples/shapes/weights.js')).loadShapesNet(new Uint8Array(readFileSync(SHAPES_WEIGHTS)));
    const input = preprocess(seenBy(bytes, [64, 64]));
    const expected = scoreCam(model, input, { layer: 'features.13' }).maps.data;
    const diff = maxAbsDiff(Float32Array.from((await results()).scorecam!.map), expected);
    console.log(`web page (Chromium): Score-CAM map max |difference| from Node's = ${diff}`);
    expect(diff).toBeLessThanOrEqual(1e-6);
    await page.click('#methods input[value="scorecam"]'); // off again
  });

  it('explains the class picked in the top 5', async () => {
    const second = (await top())[1]!.index;
    await page.click(`#top5 button[data-index="${second}"]`);
    await waitForMaps(page, ['gradcam']);
    const r = (await results()).gradcam!;
    expect(r.target).toBe(second);
    const bytes = new Uint8Array(readFileSync(join(ROOT, 'test/data/images/orient-6.jpg')));
    expect(maxAbsDiff(Float32Array.from(r.map), nodeReference(bytes, second).map)).toBeLessThanOrEqual(1e-6);
  });

  it('shows the maps of the methods that can explain a layer and says why another cannot', async () => {
    await page.click('#methods input[value="cam"]');
    await page.select('#layer', 'features.10');
    await waitForMaps(page, ['gradcam']);
    const shown = await results();
    expect(Object.keys(shown)).toEqual(['gradcam']);
    expect(shown.gradcam!.layers).toEqual(['features.10']);
    expect(await page.$eval('#message', (m) => m.textContent)).toMatch(/^CAM: /);
    await page.click('#methods input[value="cam"]');
    await page.select('#layer', 'features.13');
    await waitForMaps(page, ['gradcam']);
  });

  it('says clearly when a dropped file is neither a picture nor a model', async () => {
    await dropFiles(page, [{ name: 'notes.xyz', bytes: new TextEncoder().encode('hello, not a picture') }]);
    const message = await page.$eval('#message', (m) => ({ text: m.textContent, hidden: (m as HTMLElement).hidden }));
    expect(message.hidden).toBe(false);
    expect(message.text).toBe("'notes.xyz' is neither a picture (PNG, JPEG), a model (.onnx with its external data, .safetensors with an architecture), nor a labels .txt");

    // A file named like a picture that is not one: the decoder's typed error, and the old picture stays.
    await dropFiles(page, [{ name: 'broken.png', bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]) }]);
    await page.waitForFunction(() => !document.getElementById('message')!.hidden && document.body.dataset.state === 'ready');
    expect(await page.$eval('#message', (m) => m.textContent)).toMatch(/PNG/);
    expect((await results()).gradcam).toBeDefined();
  });

  it('lists the unsupported ops of an ONNX model it cannot run', async () => {
    const bytes = onnxModel({
      opset: 13,
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['r'], name: '/relu' },
        { op: 'FancyWarp', inputs: ['r'], outputs: ['w'], name: '/warp' },
        { op: 'TwirlEffect', inputs: ['w'], outputs: ['y'], name: '/twirl' },
      ],
      inputs: [{ name: 'x', dims: [1, 3, 8, 8] }],
      outputs: [{ name: 'y' }],
    });
    await dropFiles(page, [{ name: 'exotic.onnx', bytes }]);
    await page.waitForFunction(() => document.querySelectorAll('#message li').length > 0);
    const items = await page.$$eval('#message li', (li) => li.map((l) => l.textContent));
    expect(items).toEqual(['FancyWarp: 1 node', 'TwirlEffect: 1 node']);
    expect(await page.$eval('#message', (m) => m.textContent)).toMatch(/2 unsupported op types/);
  });

  it('loads a dropped .safetensors with its architecture', async () => {
    await page.select('#arch', 'shapesnet');
    await dropFiles(page, [{ name: 'shapes-cnn.safetensors', bytes: new Uint8Array(readFileSync(SHAPES_WEIGHTS)) }]);
    await page.waitForFunction(() => document.getElementById('model-name')!.textContent!.startsWith('shapes-cnn.safetensors'));
    await waitForMaps(page, ['gradcam']);
    const bytes = new Uint8Array(readFileSync(join(ROOT, 'test/data/images/orient-6.jpg')));
    expect(maxAbsDiff(Float32Array.from((await results()).gradcam!.map), nodeReference(bytes).map)).toBeLessThanOrEqual(1e-6);
  });

  if (referenceData('fixtures') !== 'absent') {
    it("runs the fixtures' ONNX model, fused and with external data, equal to Node's", async () => {
      const image = new Uint8Array(readFileSync(referencePath('fixtures/shapes/test/0003.png')));
      await dropFiles(page, [{ name: '0003.png', bytes: image }]);
      for (const files of [['shapes_cnn.onnx'], ['shapes_cnn.unfused.onnx', 'shapes_cnn.safetensors']]) {
        const dropped = files.map((name) => ({ name, bytes: new Uint8Array(readFileSync(referencePath(`fixtures/models/${name}`))) }));
        await dropFiles(page, dropped);
        await page.waitForFunction((name: string) => document.getElementById('model-name')!.textContent!.startsWith(name), {}, files[0]!);
        await waitForMaps(page, ['gradcam']);
        const model = loadOnnx(dropped[0]!.bytes, { externalData: () => dropped[1]!.bytes });
        const info: { camLayer: string; inputSize: [number, number] } = await page.evaluate(() => (globalThis as any).tinycamPage.model());
        const input = preprocess(seenBy(image, info.inputSize));
        const expected = gradCam(model, input, { layer: info.camLayer });
        const r = (await results()).gradcam!;
        expect(r.layers).toEqual([info.camLayer]);
        expect(r.target).toBe(expected.targets![0]);
        const diff = maxAbsDiff(Float32Array.from(r.map), expected.maps.data);
        console.log(`web page (Chromium): ${files.join(' + ')} Grad-CAM at ${info.camLayer} max |difference| from Node's = ${diff}`);
        expect(diff).toBeLessThanOrEqual(1e-6);
      }
    });
  } else {
    it.skip("runs the fixtures' ONNX model: needs ../shared/fixtures, which is not beside this repository", () => {});
  }

  it('is cross-origin isolated (SharedArrayBuffer available), fetched nothing outside its origin, logged no console error', async () => {
    expect(await page.evaluate(() => crossOriginIsolated && typeof SharedArrayBuffer === 'function')).toBe(true);
    expect(outside).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});

/** Waits until the page is idle and shows a map for each of `methods`. */
async function waitForMaps(page: Page, methods: string[]): Promise<void> {
  await page.waitForFunction(
    (wanted: string[]) =>
      document.body.dataset.state === 'ready' && wanted.every((m) => document.querySelector(`#results .card[data-method="${m}"]`)),
    { timeout: 90_000 },
    methods,
  );
}

/** Drops files on the page as a person would: a drop event carrying them in its DataTransfer. */
async function dropFiles(page: Page, files: { name: string; bytes: Uint8Array }[]): Promise<void> {
  await page.evaluate(
    (list: { name: string; base64: string }[]) => {
      const transfer = new DataTransfer();
      for (const f of list) {
        const binary = atob(f.base64);
        const bytes = new Uint8Array(binary.length);
        for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
        transfer.items.add(new File([bytes], f.name));
      }
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    files.map((f) => ({ name: f.name, base64: Buffer.from(f.bytes).toString('base64') })),
  );
  // The drop handler marks the page busy at once; it is ready again when the worker has answered.
  await page.waitForFunction(() => document.body.dataset.state === 'ready', { timeout: 90_000 });
}
