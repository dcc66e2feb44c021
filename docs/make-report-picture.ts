/**
 * The comparison report shown in docs/metrics.md: `tinycam compare`'s page
 * for a generated scene and the model tinycam trained itself, opened in
 * headless Chromium (Debian's chromium) and saved as
 * docs/images/compare-report.png (and the page itself beside it).
 * Run: `npx tsx docs/make-report-picture.ts`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compareMethods, rise } from '../src/metrics/index.js';
import { normalizeImages } from '../src/cam/postprocess.js';
import { Tensor } from '../src/tensor/tensor.js';
import { renderReport } from '../src/cli/compare-report.js';
import type { RgbaImage } from '../src/image/index.js';
import { sceneToImage, scenesToTensor } from '../examples/shapes/data.js';
import { CLASSES, DEMO_SEED_BASE, generateScenes } from '../examples/shapes/generate.js';
import { CAM_LAYER } from '../examples/shapes/model.js';
import { WEIGHTS_FILE, loadShapesNet } from '../examples/shapes/weights.js';
import { launchChromium } from '../test/helpers/runtimes.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Min-max, as the report scales black-box maps. */
function scaleMap(maps: Tensor): Tensor {
  const data = maps.data.slice();
  normalizeImages(data, 1, data.length, 'minmax');
  return new Tensor(data, maps.shape);
}
const { model } = loadShapesNet(readFileSync(join(here, '..', 'examples', 'shapes', WEIGHTS_FILE)));
const scene = generateScenes(DEMO_SEED_BASE, 1)[0]!;
const comparison = compareMethods(model, scenesToTensor([scene]), {
  methods: [
    'gradCam', 'gradCamPlusPlus', 'xGradCam', 'layerCam', 'hiResCam', 'eigenCam', 'occlusion',
    // RISE with 500 masks (the library's report uses 2,000) keeps the picture quick to redraw.
    { name: 'rise', run: (m, x, o) => ({ maps: scaleMap(rise(m, x, { target: o.target, masks: 500, seed: 0 }).maps) }) },
  ],
  steps: 10,
  layer: CAM_LAYER,
  labels: CLASSES,
  onProgress: (m) => process.stderr.write(`\r${m.padEnd(40)}`),
});
const html = renderReport(comparison, sceneToImage(scene) as RgbaImage, {
  title: 'Which map to believe? A generated scene',
  model: 'examples/shapes (trained by tinycam)',
  image: `scene ${DEMO_SEED_BASE}`,
  created: new Date().toISOString().slice(0, 10),
});
const dir = mkdtempSync(join(tmpdir(), 'tinycam-docs-'));
const file = join(dir, 'report.html');
writeFileSync(file, html);
const { browser, stop: close } = await launchChromium();
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.click('#scores thead th:nth-child(8)'); // sort by ROAD
  await page.click('#scores thead th:nth-child(8)'); // best first
  writeFileSync(join(here, 'images', 'compare-report.png'), await page.screenshot({ type: 'png', fullPage: true }));
} finally {
  await close();
  rmSync(dir, { recursive: true, force: true });
}
process.stderr.write('\nwrote docs/images/compare-report.png\n');
