/**
 * The browser / edge build of tinycam/image: bundled for the browser (so no
 * Node built-in can be resolved), it must decode and encode in a Node
 * process started with --disallow-code-generation-from-strings, where eval
 * and new Function throw, as on Cloudflare Workers and strict-CSP pages,
 * and with the global Buffer removed, as in a browser.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'tinycam-image-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCRIPT = `
import { readFileSync } from 'node:fs';
const pngFile = Uint8Array.from(readFileSync(process.argv[2]));
const jpgFile = Uint8Array.from(readFileSync(process.argv[3]));
// As in a browser or a worker: no Buffer.
delete globalThis.Buffer;
const image = await import('./image.browser.mjs');
let codegen = 'allowed';
try { new Function('return 1')(); } catch (e) { codegen = e.constructor.name; }
const png = image.decodeImage(pngFile);
const jpg = image.decodeImage(jpgFile);
const pngBack = image.decodeImage(image.encodePng(png));
const jpgBytes = image.encodeJpeg(png, { quality: 90 });
const jpgBack = image.decodeImage(jpgBytes);
let same = pngBack.data.length === png.data.length;
for (let i = 0; i < png.data.length && same; i++) same = pngBack.data[i] === png.data[i];
const x = image.preprocess(png, { resize: 32, crop: 28 });
const Tensor = x.constructor; // tinycam/image takes maps as the engine's Tensor
const over = image.overlay(png, new Tensor(new Float32Array(64).fill(0.5), [8, 8]));
const small = image.resize(png, { width: 16, height: 16, antialias: true });
const sheet = image.grid([{ name: 'test', image: small, map: new Tensor(new Float32Array(16).fill(1), [4, 4]) }]);
let typed = '';
try { image.decodeImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])); } catch (e) { typed = e.name; }
console.log(JSON.stringify({
  codegen, bufferDefined: typeof Buffer !== 'undefined',
  png: [png.width, png.height], jpg: [jpg.width, jpg.height], pngLossless: same,
  jpgBack: [jpgBack.width, jpgBack.height], jpgBytes: jpgBytes.length,
  tensor: x.shape, overlay: [over.width, over.height], grid: [sheet.width, sheet.height], typed,
}));
`;

describe('tinycam/image in a browser / edge bundle', () => {
  it('bundles for the browser without Node built-ins and runs with code generation disallowed', async () => {
    const result = await build({
      entryPoints: [join(ROOT, 'src/image/index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: join(dir, 'image.browser.mjs'),
      write: true,
      logLevel: 'silent',
      metafile: true,
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile!.inputs);
    // Nothing from Node: esbuild would have failed on an unresolvable built-in, and none was marked external.
    expect(inputs.filter((p) => /^node:|(^|\/)(fs|zlib|stream|buffer|worker_threads)$/.test(p))).toEqual([]);
    const code = readFileSync(join(dir, 'image.browser.mjs'), 'utf8');
    console.log(`tinycam/image browser bundle: ${(code.length / 1024).toFixed(0)} KiB, ${(gzipSync(code).length / 1024).toFixed(1)} KiB gzipped`);

    writeFileSync(join(dir, 'run.mjs'), SCRIPT);
    const run = spawnSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', join(dir, 'run.mjs'), join(ROOT, 'test/data/images/src-rgb.png'), join(ROOT, 'test/data/images/progressive.jpg')],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({
      codegen: 'EvalError', // the flag is in force: new Function throws in that process
      bufferDefined: false,
      png: [40, 24],
      jpg: [40, 24],
      pngLossless: true,
      jpgBack: [40, 24],
      tensor: [1, 3, 28, 28],
      overlay: [40, 24],
      typed: 'ImageDecodeError',
    });
    expect(out.jpgBytes).toBeGreaterThan(500);
  });

  it('runs from source (Node build of fflate) under the same flag via tsx', () => {
    const script = join(dir, 'source.ts');
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { decodeImage, encodeJpeg, encodePng } from ${JSON.stringify(join(ROOT, 'src/image/index.ts'))};
let codegen = 'allowed';
try { new Function('return 1')(); } catch (e) { codegen = (e as Error).constructor.name; }
const img = decodeImage(readFileSync(process.argv[2]!));
console.log(JSON.stringify({ codegen, size: [img.width, img.height], png: decodeImage(encodePng(img)).width, jpeg: decodeImage(encodeJpeg(img)).height }));
`,
    );
    const run = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--import', 'tsx', script, join(ROOT, 'test/data/images/orient-6.jpg')], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ codegen: 'EvalError', size: [24, 40], png: 24, jpeg: 40 });
  });
});
