/**
 * `npx tsx web/screenshot.ts`: the README's picture of the page
 * (docs/images/web.png): the page built and served locally, a generated
 * scene explained by four methods, in headless Chromium.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, scratchDir } from '../test/helpers/runtimes.js';
import { buildWeb } from './build.js';
import { createStaticServer } from './serve.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'docs/images/web.png');

const dir = scratchDir('web-shot');
const chromium = await launchChromium();
const server = createStaticServer((await buildWeb(join(dir.path, 'site'))).out);
try {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const page = await chromium.browser.newPage();
  await page.setViewport({ width: 1180, height: 1060 });
  await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
  const ready = () => page.waitForFunction(() => document.body.dataset.state === 'ready' && document.querySelector('#results .card'), { timeout: 120_000 });
  await ready();
  await page.click('#samples button:nth-child(7)'); // the generated triangle
  await ready();
  for (const method of ['gradcam++', 'layercam', 'scorecam']) await page.click(`#methods input[value="${method}"]`);
  await page.click('#explain');
  await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.querySelectorAll('#results .card').length === 4, { timeout: 120_000 });
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, await page.screenshot({ type: 'png', fullPage: true }));
  console.log(`wrote ${OUT}`);
} finally {
  await chromium.stop();
  server.close();
  dir.remove();
}
