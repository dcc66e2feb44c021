/**
 * `npx tsx bench/runtimes.ts`: cold start and time per explanation of the
 * deploy examples in each runtime (node, workerd, edge-runtime, deno, bun)
 * and of the web page in headless Chromium, in one run on this machine, with
 * the same picture and model (the shapes model, Grad-CAM at features.13).
 * Writes bench/RUNTIMES.md.
 *
 * Cold start: spawn of the runtime to its first HTTP answer (the model is
 * built at the first explanation, so that one is timed on its own). Warm:
 * round trips of POST /explain on 127.0.0.1, median and 90th percentile of
 * 20, after 3 unmeasured ones. Node in-process: the same pipeline without
 * HTTP, for scale.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHandler } from '../examples/explainer/handler.js';
import { shapesExplainable } from '../examples/explainer/shapes.js';
import { samplePictures } from '../test/helpers/deploy-suite.js';
import { DEPLOY_RUNTIMES, SHAPES_WEIGHTS, startDeployServer } from '../test/helpers/deploy-servers.js';
import { launchChromium, rawRequest, ROOT, runtimeBinary, scratchDir } from '../test/helpers/runtimes.js';
import { buildWeb } from '../web/build.js';
import { createStaticServer } from '../web/serve.js';

const WARM = 20;
const picture = samplePictures()[0]!.bytes;
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

interface Row {
  runtime: string;
  version: string;
  coldMs: number;
  firstMs: number;
  medianMs: number;
  p90Ms: number;
  /** CPU time of the server process: start to the first explanation answered, and per warm explanation. */
  startCpuMs: number;
  cpuPerExplanationMs: number;
}

/** CPU time (user + system, all threads) a process has used, from /proc; NaN where there is no /proc. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function version(bin: string | null, args: string[]): string {
  if (!bin) return 'missing';
  const run = spawnSync(bin.endsWith('.js') ? process.execPath : bin, bin.endsWith('.js') ? [bin, ...args] : args, { encoding: 'utf8' });
  return (run.stdout || run.stderr).trim().split('\n')[0] ?? '';
}

async function measureServer(runtime: (typeof DEPLOY_RUNTIMES)[number]): Promise<Row | null> {
  if (!runtimeBinary(runtime)) return null;
  const server = await startDeployServer(runtime);
  try {
    let t = performance.now();
    const first = await rawRequest(server.url, { body: picture });
    if (first.status !== 200) throw new Error(`${runtime}: ${first.body}`);
    const firstMs = performance.now() - t;
    const startCpuMs = cpuMs(server.pid);
    for (let i = 0; i < 3; i++) await rawRequest(server.url, { body: picture });
    const times: number[] = [];
    const cpuBefore = cpuMs(server.pid);
    for (let i = 0; i < WARM; i++) {
      t = performance.now();
      await rawRequest(server.url, { body: picture });
      times.push(performance.now() - t);
    }
    const cpuPerExplanationMs = (cpuMs(server.pid) - cpuBefore) / WARM;
    const versions: Record<string, string> = {
      node: process.version,
      workerd: version(runtimeBinary('workerd'), ['--version']),
      'edge-runtime': `edge-runtime ${JSON.parse(readFileSync(join(ROOT, 'node_modules/edge-runtime/package.json'), 'utf8')).version} on Node ${process.version}`,
      deno: version(runtimeBinary('deno'), ['--version']),
      bun: `bun ${version(runtimeBinary('bun'), ['--version'])}`,
    };
    return { runtime, version: versions[runtime]!, coldMs: server.startupMs, firstMs, medianMs: quantile(times, 0.5), p90Ms: quantile(times, 0.9), startCpuMs, cpuPerExplanationMs };
  } finally {
    await server.stop();
  }
}

async function measureInProcessAsync(): Promise<Row> {
  const handle = createHandler({ subject: () => shapesExplainable(new Uint8Array(readFileSync(SHAPES_WEIGHTS))) });
  const request = () => new Request('http://localhost/explain', { method: 'POST', body: picture as Uint8Array<ArrayBuffer> });
  let t = performance.now();
  const cpu0 = process.cpuUsage();
  await (await handle(request())).arrayBuffer();
  const firstMs = performance.now() - t;
  const first = process.cpuUsage(cpu0);
  for (let i = 0; i < 3; i++) await (await handle(request())).arrayBuffer();
  const times: number[] = [];
  const cpu1 = process.cpuUsage();
  for (let i = 0; i < WARM; i++) {
    t = performance.now();
    await (await handle(request())).arrayBuffer();
    times.push(performance.now() - t);
  }
  const warm = process.cpuUsage(cpu1);
  return {
    runtime: 'node, in process (no HTTP)',
    version: process.version,
    coldMs: NaN,
    firstMs,
    medianMs: quantile(times, 0.5),
    p90Ms: quantile(times, 0.9),
    startCpuMs: (first.user + first.system) / 1000,
    cpuPerExplanationMs: (warm.user + warm.system) / 1000 / WARM,
  };
}

/** The page: navigation to the first map shown, then Grad-CAM times the worker reports for the generated samples. */
async function measureChromium(): Promise<Row | null> {
  if (!runtimeBinary('chromium')) return null;
  const dir = scratchDir('bench-web');
  const chromium = await launchChromium();
  const server = createStaticServer((await buildWeb(join(dir.path, 'site'))).out);
  try {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const page = await chromium.browser.newPage();
    const ready = () => page.waitForFunction(() => document.body.dataset.state === 'ready' && document.querySelector('#results .card'), { timeout: 120_000 });
    const t = performance.now();
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await ready();
    const coldMs = performance.now() - t;
    const firstMs = await page.$eval('#results .card figcaption', (c) => Number(/\((\d+) ms\)/.exec(c.textContent ?? '')?.[1]));
    const times: number[] = [];
    for (let i = 0; i < WARM; i++) {
      // Alternate the top-2 classes: each click explains again in the worker.
      await page.click(`#top5 li:nth-child(${1 + (i % 2)}) button`);
      await ready();
      times.push(await page.$eval('#results .card figcaption', (c) => Number(/\((\d+) ms\)/.exec(c.textContent ?? '')?.[1])));
    }
    return {
      runtime: 'chromium (web page, Web Worker)',
      version: (await chromium.browser.version()).replace('HeadlessChrome', 'Chromium'),
      coldMs,
      firstMs,
      medianMs: quantile(times, 0.5),
      p90Ms: quantile(times, 0.9),
      startCpuMs: NaN,
      cpuPerExplanationMs: NaN,
    };
  } finally {
    await chromium.stop();
    server.close();
    dir.remove();
  }
}

const rows: Row[] = [await measureInProcessAsync()];
for (const runtime of DEPLOY_RUNTIMES) {
  const row = await measureServer(runtime);
  if (row) rows.push(row);
}
const page = await measureChromium();
if (page) rows.push(page);

const fmt = (x: number) => (Number.isNaN(x) ? '—' : x < 10 ? x.toFixed(1) : x.toFixed(0));
const table = [
  '| runtime | version | CPU per explanation (ms) | CPU, start to first answer (ms) | cold start, wall (ms) | first explanation, wall (ms) | warm explanation, wall, median / p90 (ms) |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.runtime} | ${r.version} | ${fmt(r.cpuPerExplanationMs)} | ${fmt(r.startCpuMs)} | ${fmt(r.coldMs)} | ${fmt(r.firstMs)} | ${fmt(r.medianMs)} / ${fmt(r.p90Ms)} |`,
  ),
].join('\n');
const header = `# Runtimes: cold start and time per explanation

Measured by \`npx tsx bench/runtimes.ts\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} at the end (a machine shared with other jobs: compare rows, not runs).
One picture (a generated 64x64 scene, PNG), the shapes model, Grad-CAM at features.13; the answer carries the top 5 and the overlay PNG.
CPU columns: the server process's user + system time from /proc (all its threads, garbage collector included), which a busy machine inflates far less than wall time: per warm explanation (over ${WARM} requests), and from spawn to the first explanation answered (start-up, parsing the bundle, building the model).
Wall columns: spawn to first HTTP answer (cold start), the first POST /explain (builds the model), then ${WARM} round trips on 127.0.0.1 after 3 unmeasured.
Chromium: navigation to the first map on screen (cold), then the Grad-CAM times its worker reports (the map alone; the page draws the overlay itself).
`;
writeFileSync(join(ROOT, 'bench/RUNTIMES.md'), `${header}\n${table}\n`);
console.log(table);
