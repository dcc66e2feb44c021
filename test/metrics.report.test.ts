/**
 * The comparison report: compareMethods' data for the shapes model, rendered
 * by `tinycam compare`'s page writer, opened in headless Chromium: it loads
 * without errors, every method's overlay is on screen (checked in a
 * screenshot against the overlay's own pixels), and the score table sorts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareMethods, type Comparison } from '../src/metrics/index.js';
import { renderReport } from '../src/cli/compare-report.js';
import { decodeImage, overlay, type RgbaImage } from '../src/image/index.js';
import { generateScenes, TEST_SEED_BASE } from '../examples/shapes/generate.js';
import { sceneToImage, scenesToTensor } from '../examples/shapes/data.js';
import { loadShapesNet, WEIGHTS_FILE } from '../examples/shapes/weights.js';
import { describeRuntime, launchChromium } from './helpers/runtimes.js';

const { model } = loadShapesNet(readFileSync(fileURLToPath(new URL(`../examples/shapes/${WEIGHTS_FILE}`, import.meta.url))));
const scene = generateScenes(TEST_SEED_BASE, 1)[0]!;
const input = scenesToTensor([scene]);
const picture = sceneToImage(scene) as RgbaImage;
const METHODS = ['gradCam', 'gradCamPlusPlus', 'layerCam', 'eigenCam', 'occlusion'];

let comparison: Comparison;
let dir: string;
let file: string;

beforeAll(() => {
  comparison = compareMethods(model, input, {
    methods: METHODS,
    metrics: ['confidenceChange', 'averageDrop', 'roadCombined', 'deletion'],
    steps: 8,
    labels: ['circle', 'square', 'triangle', 'cross', 'star'],
  });
  dir = mkdtempSync(join(tmpdir(), 'tinycam-report-'));
  file = join(dir, 'report.html');
  writeFileSync(file, renderReport(comparison, picture, { title: 'Which map to believe?', model: 'shapes-cnn', image: 'scene 0', created: '2026-01-01' }));
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compareMethods', () => {
  it('times and scores every method for the top class, with the top 5', () => {
    expect(comparison.methods.map((m) => m.name)).toEqual(METHODS);
    expect(comparison.top).toHaveLength(5);
    expect(comparison.target).toBe(comparison.top[0]!.index);
    for (const m of comparison.methods) {
      expect(m.error).toBeUndefined();
      expect(m.timeMs).toBeGreaterThan(0);
      expect(m.map.shape).toEqual([64, 64]);
      expect(Object.keys(m.metrics).sort()).toEqual(['averageDrop', 'confidenceChange', 'deletion', 'roadCombined']);
      expect(m.metrics.averageDrop!).toBeGreaterThanOrEqual(0);
    }
  });

  it('reports a method that throws instead of stopping', () => {
    const r = compareMethods(model, input, { methods: ['gradCam', { name: 'broken', run: () => { throw new Error('no maps today'); } }], metrics: ['confidenceChange'] });
    expect(r.methods[1]!.error).toBe('no maps today');
    expect(r.methods[0]!.metrics.confidenceChange).toBeTypeOf('number');
  });
});

describeRuntime('chromium', 'the report in headless Chromium', () => {
  it('renders without errors, shows every overlay, and sorts the table', async () => {
    const { browser, stop: close } = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url().slice(0, 80)}`));
      await page.setViewport({ width: 1200, height: 1000, deviceScaleFactor: 1 });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      expect(problems).toEqual([]);

      const figures = await page.$$eval('figure', (fs) =>
        fs.map((f) => {
          const img = f.querySelector('img')!;
          const r = img.getBoundingClientRect();
          return { method: f.getAttribute('data-method'), loaded: img.complete && img.naturalWidth === 64 && img.naturalHeight === 64, box: [r.x, r.y, r.width, r.height] as [number, number, number, number] };
        }),
      );
      expect(figures.map((f) => f.method)).toEqual(['input', ...METHODS]);
      for (const f of figures) expect(f.loaded, `${f.method} image loaded`).toBe(true);

      // In a screenshot, the middle of each image holds that method's overlay (pixelated scaling keeps colours).
      const shot = decodeImage(new Uint8Array(await page.screenshot({ type: 'png', fullPage: true })));
      figures.forEach((f, i) => {
        const expected = i === 0 ? picture : overlay(picture, comparison.methods[i - 1]!.map);
        const [x, y, w, h] = f.box;
        let worst = 0;
        for (const [u, v] of [[0.3, 0.3], [0.5, 0.5], [0.7, 0.6], [0.25, 0.75]] as const) {
          // The centre of source pixel (ex, ey) on screen.
          const ex = Math.floor(u * 64);
          const ey = Math.floor(v * 64);
          const sx = Math.floor(x + ((ex + 0.5) * w) / 64);
          const sy = Math.floor(y + ((ey + 0.5) * h) / 64);
          for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(shot.data[(sy * shot.width + sx) * 4 + c]! - expected.data[(ey * 64 + ex) * 4 + c]!));
        }
        expect(worst, `${f.method}: screenshot pixels vs its overlay`).toBeLessThanOrEqual(2);
      });

      // One row per method; clicking 'time (ms)' sorts ascending, again descending.
      const column = async () => page.$$eval('#scores tbody tr', (rows) => rows.map((r) => Number(r.children[1]!.getAttribute('data-value'))));
      expect(await column()).toHaveLength(METHODS.length);
      await page.click('#scores thead th:nth-child(2)');
      const up = await column();
      expect(up).toEqual([...up].sort((a, b) => a - b));
      await page.click('#scores thead th:nth-child(2)');
      const down = await column();
      expect(down).toEqual([...up].reverse());
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);
});
