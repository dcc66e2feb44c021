import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { deconvnet, gradCam, guidedBackprop, inputXGradient, integratedGradients, saliency, smoothGrad } from '../src/cam/index.js';
import type { GradientOptions, GradientResult } from '../src/cam/types.js';
import { locateDefaultLayer } from '../src/cam/layers.js';
import { attributionMap, gradientPicture } from '../src/cli/gradient-pictures.js';
import { centerCrop, decodeImage, encodeJpeg, encodePng, overlay, preprocess, resize, shorterSideSize, type RgbaImage } from '../src/image/index.js';
import { Module } from '../src/layers/module.js';
import { createModel } from '../src/models/index.js';
import { GraphModule, loadOnnx } from '../src/onnx/index.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { noGrad } from '../src/tensor/autograd.js';
import { loadSafetensors, saveSafetensors } from '../src/tensor/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';
import { setBackend } from '../src/tensor/backend.js';
import { ROOT, buildCli, runCli, runCliMerged, runInProcess, screen, testImage, testPng, tinyModel } from './cli.harness.js';
import { parseExplainArgs, parseLayersArgs } from '../src/cli/args.js';
import { onnxModel, type NodeSpec } from './onnx.builder.js';

/*
 * The command end to end (issue 8, items 2, 3 and 7): the bundled command
 * run on a small ONNX model and generated pictures, checked against the
 * library calls it stands for. Needs nothing beside the repository.
 */

// Count the default-layer searches (the real function runs).
vi.mock('../src/cam/layers.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/cam/layers.js')>();
  return { ...original, locateDefaultLayer: vi.fn(original.locateDefaultLayer) };
});

let cli: string;
let work: string;
let model: string;
/** The built command, run by node in the work folder (relative paths). */
const run = (...args: string[]) => runCli(cli, work, args);
/** The same command in this process (give absolute paths: see w()). */
const inProcess = (...args: string[]) => runInProcess(args);
const w = (file: string) => join(work, file);
const json = (r: { stdout: string }) => JSON.parse(r.stdout);

/** The picture the command feeds the model: shorter side resized to max(h, w), centre crop, as explain.ts does. */
function seenOf(image: RgbaImage, width: number, height: number): RgbaImage {
  return centerCrop(resize(image, { ...shorterSideSize(image.width, image.height, Math.max(width, height)), antialias: true }), { width, height });
}

/** Grad-CAM's map at 'features' of the tiny model for `seen`, on the kernels `backend` names (this process is left on JS). */
const libraryMap = async (seen: RgbaImage, backend: 'js' | 'wasm'): Promise<number[]> => {
  expect(await setBackend(backend)).toBe(true);
  try {
    return Array.from(gradCam(loadOnnx(tinyModel()), preprocess(seen), { layer: 'features' }).maps.data);
  } finally {
    await setBackend('js');
  }
};
const savedMap = (file: string): number[] => Array.from(loadSafetensors(new Uint8Array(readFileSync(w(file))))['map']!.data);

beforeAll(async () => {
  cli = await buildCli('command');
  work = mkdtempSync(join(tmpdir(), 'tinycam-cli-'));
  model = join(work, 'tiny.onnx');
  writeFileSync(model, tinyModel());
  writeFileSync(join(work, 'a.png'), testPng(32, 32, 0));
  writeFileSync(join(work, 'labels.txt'), 'circle\nsquare\ncross\n');
}, 120_000);

describe('what the command says', () => {
  it('--version prints the package version', () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    const r = run('--version');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`tinycam ${version}\n`);
    expect(inProcess('-v').stdout).toBe(`tinycam ${version}\n`);
  });

  it("shows a softmax model's own probabilities and says it explains the logit before the Softmax", () => {
    const r = run('explain', '--model', model, '--image', 'a.png', '--out', 'p.png', '--map-out', 'p.safetensors', '--labels', 'labels.txt', '--top', '3', '--backend', 'js');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const graph = loadOnnx(tinyModel());
    const input = preprocess(seenOf(testImage(32, 32, 0), 32, 32));
    const [out] = noGrad(() => graph.forwardOutputs(input));
    const probabilities = Array.from(out!.value.data);
    const logits = Array.from(out!.logits!.data);
    const order = [0, 1, 2].sort((a, b) => probabilities[b]! - probabilities[a]!);
    const names = ['circle', 'square', 'cross'];
    const lines = r.stdout.split('\n').filter((l) => /^\s+\d\. /.test(l));
    expect(lines).toHaveLength(3);
    order.forEach((c, rank) => {
      expect(lines[rank]).toContain(`${rank + 1}. ${names[c]}`);
      expect(lines[rank]).toContain(`${(probabilities[c]! * 100).toFixed(2)} %`);
      expect(lines[rank]).toContain(`logit ${logits[c]!.toFixed(4)}`);
    });
    expect(r.stdout).toContain(`gradcam at features for class ${order[0]} (${names[order[0]!]}), explaining its logit (the input of the model's final Softmax, which makes 'prob') -> p.png`);
    // The map is the library's Grad-CAM of the logit.
    const map = loadSafetensors(new Uint8Array(readFileSync(join(work, 'p.safetensors'))))['map']!;
    const lib = gradCam(graph, input, { layer: 'features' });
    expect(Array.from(map.data)).toEqual(Array.from(lib.maps.data));
  });

  it('--backend takes js or wasm, and says so (explain and layers)', () => {
    const r = inProcess('explain', '--model', model, '--image', w('a.png'), '--out', w('b.png'), '--backend', 'gpu');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown --backend 'gpu'; accepted: js, wasm\nRun 'tinycam explain --help' for usage\.\n$/);
    expect(existsSync(join(work, 'b.png'))).toBe(false);
    const layers = inProcess('layers', model, '--backend', 'WASM');
    expect(layers.status).toBe(2);
    expect(layers.stderr).toMatch(/unknown --backend 'WASM'; accepted: js, wasm\nRun 'tinycam layers --help' for usage\.\n$/);
    expect(parseLayersArgs([model]).backend).toBe('wasm');
  });

  it('runs on the WebAssembly kernels by default: the map equals the library on them bit for bit, within float rounding of the JS kernels, the same top classes', async () => {
    expect(parseExplainArgs(['--model', model, '--image', 'a.png']).backend).toBe('wasm');
    const r = run('explain', '--model', model, '--image', 'a.png', '--out', 'wasm.png', '--map-out', 'wasm.safetensors', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const seen = seenOf(testImage(32, 32, 0), 32, 32);
    const [onWasm, onJs] = [await libraryMap(seen, 'wasm'), await libraryMap(seen, 'js')];
    const map = savedMap('wasm.safetensors');
    expect(map).toEqual(onWasm);
    // The two kernels round differently on this model, so the equality above tells them apart.
    expect(map).not.toEqual(onJs);
    expect(Math.max(...map.map((v, i) => Math.abs(v - onJs[i]!)))).toBeLessThan(1e-5);
    // The same top classes as the JS kernels' probabilities.
    const [out] = noGrad(() => loadOnnx(tinyModel()).forwardOutputs(preprocess(seen)));
    const order = [0, 1, 2].sort((a, b) => out!.value.data[b]! - out!.value.data[a]!);
    expect(json(r).top.map((t: { index: number }) => t.index)).toEqual(order);
    expect(json(r).backend).toBe('wasm');
  });

  it('with --json, gives probabilities to full precision and the explained output', () => {
    const r = run('explain', '--model', model, '--image', 'a.png', '--out', 'j.png', '--json');
    expect(r.status).toBe(0);
    const s = json(r);
    const graph = loadOnnx(tinyModel());
    const [out] = noGrad(() => graph.forwardOutputs(preprocess(seenOf(testImage(32, 32, 0), 32, 32))));
    for (const t of s.top) {
      expect(t.probability).toBeCloseTo(out!.value.data[t.index]!, 6);
      expect(t.logit).toBeCloseTo(out!.logits!.data[t.index]!, 5);
    }
    expect(s).toMatchObject({ explains: 'logit', output: 'prob', finalActivation: 'softmax', layers: ['features'] });
  });

  it('--explain-probability explains the Softmax output instead, and says so', () => {
    const r = run('explain', '--model', model, '--image', 'a.png', '--out', 'q.png', '--map-out', 'q.safetensors', '--explain-probability', '--layer', 'features.1', '--backend', 'js');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/explaining its probability \('prob', the output of the model's final Softmax\) -> q\.png/);
    const graph = loadOnnx(tinyModel());
    const lib = gradCam(graph, preprocess(seenOf(testImage(32, 32, 0), 32, 32)), { layer: 'features.1', explainProbability: true });
    const map = loadSafetensors(new Uint8Array(readFileSync(join(work, 'q.safetensors'))))['map']!;
    expect(Array.from(map.data)).toEqual(Array.from(lib.maps.data));
  });

  it('a model without a final softmax: probabilities are the softmax of its logits', () => {
    writeFileSync(join(work, 'nosoftmax.onnx'), tinyModel({ softmax: false }));
    const r = inProcess('explain', '--model', w('nosoftmax.onnx'), '--image', w('a.png'), '--out', w('ns.png'), '--json');
    const s = json(r);
    const graph = loadOnnx(tinyModel({ softmax: false }));
    const logits = noGrad(() => graph.forward(preprocess(seenOf(testImage(32, 32, 0), 32, 32)))).data;
    const total = Array.from(logits).reduce((sum, v) => sum + Math.exp(v), 0);
    for (const t of s.top) expect(t.probability).toBeCloseTo(Math.exp(logits[t.index]!) / total, 6);
    expect(s.explains).toBe('logit');
    expect(s.finalActivation).toBeUndefined();
  });
});

describe('a folder of images', () => {
  it('reports a bad file by name, explains the rest, ends with a summary and exit code 1; cat.png and cat.jpg write different files', () => {
    const dir = join(work, 'photos');
    mkdirSync(dir);
    writeFileSync(join(dir, 'cat.png'), testPng(40, 32, 1));
    writeFileSync(join(dir, 'cat.jpg'), encodeJpeg(testImage(32, 40, 2), { quality: 95 }));
    writeFileSync(join(dir, 'broken.png'), new TextEncoder().encode('not a picture'));
    writeFileSync(join(dir, 'truncated.jpg'), encodeJpeg(testImage(32, 32, 3)).subarray(0, 200));
    writeFileSync(join(dir, 'dog.png'), testPng(32, 32, 3));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    const r = run('explain', '--model', model, '--image', dir, '--out', 'maps');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tinycam: skipped .*broken\.png: decodeImage: unrecognised format/m);
    expect(r.stderr).toMatch(/^tinycam: skipped .*truncated\.jpg: /m);
    expect(r.stderr).toMatch(/tinycam: explained 3 of 5 images; skipped 2: broken\.png, truncated\.jpg\n$/);
    for (const name of ['cat.jpg', 'cat.png', 'dog.png']) {
      expect(r.stdout).toContain(join(dir, name));
      expect(existsSync(join(work, 'maps', `${name}.gradcam.png`)), name).toBe(true);
    }
    const png = readFileSync(join(work, 'maps', 'cat.png.gradcam.png'));
    const jpg = readFileSync(join(work, 'maps', 'cat.jpg.gradcam.png'));
    expect(png.equals(jpg)).toBe(false);
    // Every image reports the same default layer, found on the first.
    expect([...r.stdout.matchAll(/gradcam at (\S+) for/g)].map((m) => m[1])).toEqual(['features', 'features', 'features']);
  });

  it('finds the default layer once for the folder, not once per image', () => {
    vi.mocked(locateDefaultLayer).mockClear();
    const r = inProcess('explain', '--model', model, '--image', w('photos'), '--out', w('maps-once'), '--method', 'gradcam++');
    expect(r.status).toBe(1);
    expect(r.stdout.match(/gradcam\+\+ at features for/g)).toHaveLength(3);
    expect(vi.mocked(locateDefaultLayer)).toHaveBeenCalledTimes(1);
  });

  it('with --json, lists what was explained and what was skipped', () => {
    const r = inProcess('explain', '--model', model, '--image', w('photos'), '--out', w('maps-json'), '--json');
    expect(r.status).toBe(1);
    const report = json(r);
    expect(report.explained.map((s: { image: string }) => s.image.split('/').pop())).toEqual(['cat.jpg', 'cat.png', 'dog.png']);
    expect(report.skipped.map((s: { image: string }) => s.image.split('/').pop())).toEqual(['broken.png', 'truncated.jpg']);
  });

  /** Three images and a broken one, in a folder of their own. */
  const jobsFolder = (name: string): string => {
    const dir = w(name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'cat.png'), testPng(40, 32, 1));
    writeFileSync(join(dir, 'cat.jpg'), encodeJpeg(testImage(32, 40, 2), { quality: 95 }));
    writeFileSync(join(dir, 'broken.png'), new TextEncoder().encode('not a picture'));
    writeFileSync(join(dir, 'dog.png'), testPng(32, 32, 3));
    return dir;
  };

  it('--jobs 2 explains the folder in worker threads, on WebAssembly too by default: the same files, maps, lines, skips and exit code as one thread', async () => {
    const dir = jobsFolder('jobs-photos');
    // The built command: its workers run the worker script built beside it, as dist/cli-worker.js beside dist/cli.js.
    const one = run('explain', '--model', model, '--image', dir, '--out', w('maps-one'), '--map-out', w('maps-one'));
    const two = run('explain', '--model', model, '--image', dir, '--out', w('maps-two'), '--map-out', w('maps-two'), '--jobs', '2');
    expect(two.status).toBe(1);
    expect(two.stdout.replaceAll('maps-two', 'maps-one')).toBe(one.stdout);
    expect(two.stderr).toBe(one.stderr);
    for (const name of ['cat.jpg', 'cat.png', 'dog.png']) {
      for (const file of [`${name}.gradcam.png`, `${name}.gradcam.safetensors`]) {
        expect(readFileSync(w(`maps-two/${file}`)).equals(readFileSync(w(`maps-one/${file}`))), file).toBe(true);
      }
    }
    expect(savedMap('maps-two/dog.png.gradcam.safetensors')).toEqual(await libraryMap(seenOf(testImage(32, 32, 3), 32, 32), 'wasm'));
  });

  it('where WebAssembly cannot load, the default goes on with the JS kernels: the notice once on stderr (not once per worker), exit code 0', async () => {
    const dir = w('no-wasm');
    mkdirSync(dir);
    writeFileSync(join(dir, 'cat.png'), testPng(40, 32, 1));
    writeFileSync(join(dir, 'dog.png'), testPng(32, 32, 3));
    // node --no-expose-wasm: no WebAssembly global, in the main thread and its workers.
    const r = runCli(cli, work, ['explain', '--model', model, '--image', dir, '--out', w('maps-no-wasm'), '--map-out', w('maps-no-wasm'), '--jobs', '2'], {}, ['--no-expose-wasm']);
    expect(r.stderr).toMatch(/^tinycam: WebAssembly kernels unavailable \([^\n]+\); using the JS kernels\n$/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('explained 2 of 2 images');
    expect(savedMap('maps-no-wasm/dog.png.gradcam.safetensors')).toEqual(await libraryMap(seenOf(testImage(32, 32, 3), 32, 32), 'js'));
  });

  it('--jobs: a failure in a worker (unknown layer) stops the run with the one-line error and exit code of one thread', () => {
    const dir = jobsFolder('jobs-bad-layer');
    const one = run('explain', '--model', model, '--image', dir, '--out', w('maps-bad1'), '--layer', 'nope');
    const two = run('explain', '--model', model, '--image', dir, '--out', w('maps-bad2'), '--layer', 'nope', '--jobs', '3');
    expect(one.stderr).toMatch(/^tinycam: .*'nope'/m);
    expect(one.status).toBe(1);
    expect(two.status).toBe(1);
    expect(two.stderr).toBe(one.stderr);
    expect(() => parseExplainArgs(['--model', model, '--image', 'x.png', '--jobs', '0'])).toThrow(/--jobs takes an integer from 1 to 64/);
  });

  it('never lets the progress bar share a line with the lines of an image', () => {
    const dir = join(work, 'three');
    mkdirSync(dir);
    for (const k of [0, 1, 2]) writeFileSync(join(dir, `${k}.png`), testPng(32, 32, k));
    const r = runCliMerged(cli, work, ['explain', '--model', model, '--image', dir, '--out', 'three-out', '--method', 'scorecam', '--top', '2'], { TINYCAM_PROGRESS: '1' });
    expect(r.status).toBe(0);
    // The bar was drawn (so the test sees it) ...
    expect(r.text).toMatch(/scorecam 0\.png \[#+\.*\] \d+\/4/);
    const lines = screen(r.text);
    // ... and on screen every line is either a bar or the command's text, never both, and no bar is left.
    const bar = /\[[#.]{30}\] \d+\/\d+/;
    for (const line of lines) {
      if (bar.test(line)) expect(line, JSON.stringify(line)).toMatch(/^(\d\/3 scorecam \d\.png|images) \[[#.]{30}\] \d+\/\d+$/);
    }
    expect(lines.filter((l) => !bar.test(l))).toEqual(expect.arrayContaining([join(dir, '0.png'), join(dir, '2.png'), 'explained 3 of 3 images']));
    expect(lines.some((l) => bar.test(l))).toBe(false);
  });
});

describe('options', () => {
  it('--size WxH feeds a non-square input', () => {
    writeFileSync(join(work, 'wide.png'), testPng(60, 30, 1));
    writeFileSync(join(work, 'anysize.onnx'), tinyModel({ inputSize: null }));
    const r = run('explain', '--model', 'anysize.onnx', '--image', 'wide.png', '--size', '48x24', '--out', 'wide-out.png', '--map-out', 'wide.safetensors', '--backend', 'js');
    expect(r.status).toBe(0);
    const map = loadSafetensors(new Uint8Array(readFileSync(join(work, 'wide.safetensors'))))['map']!;
    expect([...map.shape]).toEqual([24, 48]);
    const picture = decodeImage(new Uint8Array(readFileSync(join(work, 'wide-out.png'))));
    expect([picture.width, picture.height]).toEqual([48, 24]);
    const lib = gradCam(loadOnnx(tinyModel({ inputSize: null })), preprocess(seenOf(testImage(60, 30, 1), 48, 24)), { layer: 'features' });
    expect(Array.from(map.data)).toEqual(Array.from(lib.maps.data));
  });

  it('--target takes a label name when --labels gives names, and suggests the closest for a wrong one', () => {
    const r = run('explain', '--model', model, '--image', 'a.png', '--labels', 'labels.txt', '--target', 'square', '--out', 't.png', '--json');
    expect(r.status).toBe(0);
    expect(json(r).target).toBe(1);
    const folded = inProcess('explain', '--model', model, '--image', w('a.png'), '--labels', w('labels.txt'), '--target', 'CROSS', '--out', w('t2.png'), '--json');
    expect(json(folded).target).toBe(2);
    const wrong = inProcess('explain', '--model', model, '--image', w('a.png'), '--labels', w('labels.txt'), '--target', 'sqare', '--out', w('t3.png'));
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/--target 'sqare' is not a name in the labels file; closest: 'square'/);
    const noLabels = inProcess('explain', '--model', model, '--image', w('a.png'), '--target', 'square', '--out', w('t4.png'));
    expect(noLabels.status).toBe(2);
    expect(noLabels.stderr).toMatch(/give the names with --labels/);
  });

  it('writes the format the --out extension names, and refuses other extensions', () => {
    expect(run('explain', '--model', model, '--image', 'a.png', '--out', 'x.jpg').status).toBe(0);
    expect([...readFileSync(join(work, 'x.jpg')).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(inProcess('explain', '--model', model, '--image', w('a.png'), '--out', w('x.JPEG')).status).toBe(0);
    expect([...readFileSync(join(work, 'x.JPEG')).subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect([...readFileSync(join(work, 'p.png')).subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    for (const out of ['x.bmp', 'x', 'x.png.txt']) {
      const r = out === 'x.bmp' ? run('explain', '--model', model, '--image', 'a.png', '--out', out) : inProcess('explain', '--model', model, '--image', w('a.png'), '--out', out);
      expect(r.status, out).toBe(2);
      expect(r.stderr).toContain(`--out '${out}' must end in .png, .jpg or .jpeg`);
    }
  });

  it('resolves layer names that contain dots: module paths and dotted tensor names', () => {
    for (const layer of ['features.1', 'input.4', '/features/features.0/Conv_output_0']) {
      const args = ['explain', '--model', model, '--image', w('a.png'), '--layer', layer, '--out', w(`l-${layer.replace(/\W/g, '')}.png`), '--json'];
      const r = layer === 'input.4' ? run(...args) : inProcess(...args);
      expect(r.status, r.stderr).toBe(0);
      expect(json(r).layers).toEqual([layer]);
    }
  });

  it('resolves dotted names inside a module that wraps an ONNX graph (every name namedModules lists)', () => {
    // Without the Softmax: a plain Module does not carry the graph's "explain the logits" hint.
    class Wrapper extends Module {
      net = loadOnnx(tinyModel({ softmax: false }));
      forward(x: Tensor): Tensor {
        return this.net.forward(x);
      }
    }
    const wrapper = new Wrapper();
    const listed = wrapper.namedModules().map(([name]) => name);
    for (const name of ['net.features.1', 'net.input.4', 'net./features/features.0/Conv_output_0', 'net.classifier.fc']) {
      expect(listed).toContain(name);
      expect(wrapper.getModule(name), name).toBe(wrapper.net.getModule(name.slice(4)));
    }
    expect(wrapper.getModule('net.features.9')).toBeUndefined();
    const input = preprocess(seenOf(testImage(32, 32, 0), 32, 32));
    const wrapped = gradCam(wrapper, input, { layer: 'net.input.4' });
    expect(Array.from(wrapped.maps.data)).toEqual(Array.from(gradCam(wrapper.net, input, { layer: 'input.4' }).maps.data));
  });

  it('refuses invalid option values with exit code 2 and says what is accepted', () => {
    const cases: [string[], RegExp][] = [
      [['--size', '100000'], /--size takes a size in pixels from 1 to 4096/],
      [['--size', '0x10'], /--size takes/],
      [['--size', '10x'], /--size takes/],
      [['--resize', '30000'], /--resize takes an integer from 1 to 8192/],
      [['--alpha', 'bogus'], /--alpha takes a number from 0 to 1/],
      [['--alpha', '1.5'], /--alpha takes a number from 0 to 1/],
      [['--top', '0'], /--top takes an integer from 1/],
      [['--top', '2.5'], /--top takes an integer/],
      [['--std', '0,1,1'], /--std takes 3 comma-separated positive numbers/],
      [['--mean', 'a,b,c'], /--mean takes 3 comma-separated numbers/],
      [['--num-classes', '0'], /--num-classes takes an integer from 1/],
      [['--colormap', '__proto__'], /unknown --colormap '__proto__'/],
      [['--blend', 'constructor'], /--blend takes 'seed' or 'pytorch-grad-cam'/],
      [['--method', '__proto__'], /unknown --method '__proto__'; accepted: gradcam, gradcam\+\+/],
      [['--method', 'constructor'], /unknown --method 'constructor'/],
      [['--layer', ''], /--layer takes a layer name/],
      [['--arch', 'resnet18'], /--arch is for \.safetensors weights/],
    ];
    for (const [extra, message] of cases) {
      // The first through the built command, the others in this process (the same code).
      const r = extra[0] === '--size' && extra[1] === '100000'
        ? run('explain', '--model', model, '--image', 'a.png', '--out', 'never.png', ...extra)
        : inProcess('explain', '--model', model, '--image', w('a.png'), '--out', w('never.png'), ...extra);
      expect(r.status, extra.join(' ')).toBe(2);
      expect(r.stderr, extra.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(work, 'never.png'))).toBe(false);
  });
});

describe('input-gradient methods', () => {
  const methods: [string, (m: Module, x: Tensor, o: GradientOptions) => GradientResult, 'heat' | 'rgb'][] = [
    ['saliency', saliency, 'heat'],
    ['inputxgradient', inputXGradient, 'heat'],
    ['integratedgradients', integratedGradients, 'heat'],
    ['smoothgrad', smoothGrad, 'heat'],
    ['guidedbackprop', guidedBackprop, 'rgb'],
    ['deconvnet', deconvnet, 'rgb'],
  ];
  for (const [name, method, picture] of methods) {
    it(`${name}: the library's gradients, drawn as ${picture === 'heat' ? "captum's heat map over the image" : "pytorch-grad-cam's gradient picture"}`, () => {
      // Two through the built command (one of each picture), the others in this process.
      const args = ['explain', '--model', model, '--image', w('a.png'), '--method', name, '--out', w(`${name}.png`), '--map-out', w(`${name}.safetensors`), '--json', '--backend', 'js'];
      const r = name === 'saliency' || name === 'guidedbackprop' ? run(...args) : inProcess(...args);
      expect(r.status, r.stderr).toBe(0);
      expect(json(r)).toMatchObject({ method: name, layers: [], explains: 'logit', backend: 'js' });
      const seen = seenOf(testImage(32, 32, 0), 32, 32);
      const lib = method(loadOnnx(tinyModel()), preprocess(seen), {});
      const saved = loadSafetensors(new Uint8Array(readFileSync(join(work, `${name}.safetensors`))));
      const gradients = new Tensor(lib.gradients.data, lib.gradients.shape.slice(1));
      expect(Array.from(saved['gradients']!.data)).toEqual(Array.from(gradients.data));
      expect(Array.from(saved['map']!.data)).toEqual(Array.from(attributionMap(gradients).data));
      const expected = picture === 'rgb' ? gradientPicture(gradients) : overlay(seen, attributionMap(gradients));
      const written = decodeImage(new Uint8Array(readFileSync(join(work, `${name}.png`))));
      expect(Buffer.from(written.data).equals(Buffer.from(decodeImage(encodePng(expected)).data))).toBe(true);
    });
  }

  it("draws gradients as captum and pytorch-grad-cam do (values worked by hand)", () => {
    // captum: channels summed, |.|, divided by the value where the sorted cumulative sum reaches 98 %: [1, 2, 3, 94] -> 94.
    const heat = attributionMap(new Tensor(Float32Array.of(1, -2, 3, 90, 0, 0, 0, 4), [2, 2, 2]));
    expect(Array.from(heat.data)).toEqual(Array.from(Float32Array.of(1 / 94, 2 / 94, 3 / 94, 1)));
    expect(Array.from(attributionMap(new Tensor(new Float32Array(8), [2, 2, 2])).data)).toEqual([0, 0, 0, 0]);
    // deprocess_image on [1, 2, 3, 4] (one channel shown as grey): mean 2.5, std sqrt(1.25): 0.5 + 0.1 (v - 2.5) / std.
    const rgb = gradientPicture(new Tensor(Float32Array.of(1, 2, 3, 4), [1, 2, 2]));
    expect(Array.from(rgb.data)).toEqual([93, 93, 93, 255, 116, 116, 116, 255, 138, 138, 138, 255, 161, 161, 161, 255]);
  });
});

describe('an all-zero map says why', () => {
  // Class 1 reads every channel with a negative weight; class 2 reads none.
  const fc = { weight: [1, 1, 1, 1, -1, -1, -1, -1, 0, 0, 0, 0], bias: [0, 0, 0] };
  beforeAll(() => writeFileSync(join(work, 'zeros.onnx'), tinyModel({ fc })));

  it('the score does not depend on the layer', () => {
    const r = run('explain', '--model', 'zeros.onnx', '--image', 'a.png', '--target', '2', '--out', 'z2.png');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("note: the map is all zeros: the score does not depend on the layer 'features' (every raw value is 0)");
    const g = inProcess('explain', '--model', w('zeros.onnx'), '--image', w('a.png'), '--target', '2', '--method', 'saliency', '--out', w('z2s.png'));
    expect(g.stdout).toContain('note: the map is all zeros: the gradients are all zero: the score does not depend on the input here');
  });

  it('every raw value is negative', () => {
    const r = inProcess('explain', '--model', w('zeros.onnx'), '--image', w('a.png'), '--target', '1', '--out', w('z1.png'), '--json');
    expect(json(r).note).toBe('every raw value is negative or 0, and the ReLU of the method clears them; try another --layer or --target');
    const lib = gradCam(loadOnnx(tinyModel({ fc })), preprocess(seenOf(testImage(32, 32, 0), 32, 32)), { layer: 'features', target: 1 });
    expect(Math.max(...lib.layers[0]!.raw.data)).toBeLessThanOrEqual(0);
    expect(Math.min(...lib.layers[0]!.raw.data)).toBeLessThan(0);
  });
});

describe('files the command must not destroy or read', () => {
  it('refuses --out equal to --image or --model, and existing outputs unless --force', () => {
    const before = readFileSync(join(work, 'a.png'));
    const sameImage = run('explain', '--model', model, '--image', 'a.png', '--out', 'a.png', '--force');
    expect(sameImage.status).toBe(2);
    expect(sameImage.stderr).toContain("the output 'a.png' would overwrite the input --image 'a.png'");
    expect(readFileSync(join(work, 'a.png')).equals(before)).toBe(true);
    // An ONNX model can only be overwritten through a picture named .onnx, which the extension refuses.
    const modelBytes = readFileSync(model);
    expect(inProcess('explain', '--model', model, '--image', w('a.png'), '--out', join(work, '.', 'tiny.onnx'), '--force').status).toBe(2);
    expect(readFileSync(model).equals(modelBytes)).toBe(true);
    // Safetensors weights through --map-out, labels through --out: refused before anything is read.
    writeFileSync(join(work, 'weights.safetensors'), saveSafetensors({ w: new Tensor(Float32Array.of(1), [1]) }));
    const weights = readFileSync(join(work, 'weights.safetensors'));
    const mapOverModel = inProcess('explain', '--model', w('weights.safetensors'), '--arch', 'resnet18', '--image', w('a.png'), '--out', w('fine.png'), '--map-out', join(work, '.', 'weights.safetensors'), '--force');
    expect(mapOverModel.status).toBe(2);
    expect(mapOverModel.stderr).toContain(`the output '${join(work, 'weights.safetensors')}' would overwrite the input --model '${w('weights.safetensors')}'`);
    expect(readFileSync(join(work, 'weights.safetensors')).equals(weights)).toBe(true);
    writeFileSync(join(work, 'labels.png'), 'circle\nsquare\ncross\n');
    const overLabels = inProcess('explain', '--model', model, '--image', w('a.png'), '--labels', w('labels.png'), '--out', w('labels.png'), '--force');
    expect(overLabels.status).toBe(2);
    expect(overLabels.stderr).toContain(`would overwrite the input --labels '${w('labels.png')}'`);
    expect(readFileSync(join(work, 'labels.png'), 'utf8')).toBe('circle\nsquare\ncross\n');

    writeFileSync(join(work, 'taken.png'), 'mine');
    const taken = run('explain', '--model', model, '--image', 'a.png', '--out', 'taken.png');
    expect(taken.status).toBe(2);
    expect(taken.stderr).toContain("'taken.png' already exists; pass --force to replace it");
    expect(readFileSync(join(work, 'taken.png'), 'utf8')).toBe('mine');
    expect(inProcess('explain', '--model', model, '--image', w('a.png'), '--out', w('taken.png'), '--force').status).toBe(0);
    expect(decodeImage(new Uint8Array(readFileSync(join(work, 'taken.png')))).width).toBe(32);
  });

  it('reads only regular files: --image /dev/zero and a model linked to it are refused at once', () => {
    const zero = run('explain', '--model', model, '--image', '/dev/zero', '--out', 'zero.png');
    expect(zero.status).toBe(1);
    expect(zero.stderr).toBe("tinycam: --image '/dev/zero' is not a regular file (a device); give a file\n");
    symlinkSync('/dev/zero', join(work, 'zero.onnx'));
    const devModel = inProcess('explain', '--model', w('zero.onnx'), '--image', w('a.png'), '--out', w('zero2.png'));
    expect(devModel.status).toBe(1);
    expect(devModel.stderr).toBe("tinycam: loadOnnxFile: the model '/dev/zero' is not a regular file (a device); give a file\n");
    mkdirSync(join(work, 'folder.png'));
    const folderImage = inProcess('explain', '--model', model, '--image', join(work, 'folder.png', '..', 'a.png'), '--out', w('ok-folder.png'));
    expect(folderImage.status).toBe(0);
  });

  it('one line and exit code 1 for ENAMETOOLONG, EEXIST / ENOTDIR and missing files, no stack trace', () => {
    const long = run('explain', '--model', model, '--image', 'a.png', '--out', `${'n'.repeat(300)}.png`);
    expect(long.status).toBe(1);
    expect(long.stderr).toMatch(/^tinycam: ENAMETOOLONG: name too long/);
    writeFileSync(join(work, 'plainfile'), 'x');
    const underFile = inProcess('explain', '--model', model, '--image', w('a.png'), '--out', w('plainfile/x.png'));
    expect(underFile.status).toBe(1);
    expect(underFile.stderr).toMatch(/^tinycam: (EEXIST|ENOTDIR): /);
    const missing = inProcess('explain', '--model', w('nope.onnx'), '--image', w('a.png'), '--out', w('m.png'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^tinycam: ENOENT: .*nope\.onnx/);
    for (const r of [long, underFile, missing]) {
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('torchvision weights (--arch)', () => {
  it('lists the architectures in one short line for a wrong --arch, __proto__ and constructor included', () => {
    writeFileSync(join(work, 'w.safetensors'), saveSafetensors({ 'fc.weight': new Tensor(new Float32Array(4), [2, 2]) }));
    for (const arch of ['__proto__', 'resnet', 'constructor', 'toString']) {
      const args = ['explain', '--model', w('w.safetensors'), '--arch', arch, '--image', w('a.png'), '--out', w('w.png')];
      const r = arch === '__proto__' ? run(...args) : inProcess(...args);
      expect(r.status, arch).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^tinycam: unknown --arch '${arch}'; accepted: resnet18, resnet34, .*densenet121\\n`));
      expect(r.stderr.length).toBeLessThan(400);
      // The library's lookup too.
      expect(() => createModel(arch)).toThrow(ArgumentError);
    }
  });

  it('says in a few lines that the weights do not fit the architecture, not every key', () => {
    const r = inProcess('explain', '--model', w('w.safetensors'), '--arch', 'squeezenet1_1', '--image', w('a.png'), '--out', w('w.png'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tinycam: the weights in w\.safetensors do not fit --arch squeezenet1_1: 52 tensor\(s\) of squeezenet1_1 are not in the file \('features\.0\.weight', 'features\.0\.bias', 'features\.3\.squeeze\.weight', … \(52 in all\)\); 1 tensor\(s\) of the file are not in squeezenet1_1 \('fc\.weight'\)/);
    expect(r.stderr.length).toBeLessThan(600);
  });
});

describe('names from the model are printed escaped', () => {
  it('a node named with terminal escape sequences cannot set the title or clear the screen', () => {
    const evil = '/evil\x1b]0;pwned\x07\x1b[2J/Relu';
    writeFileSync(join(work, 'evil.onnx'), tinyModel({ names: { relu: evil } }));
    const r = run('layers', 'evil.onnx');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(r.stdout).toContain('evil\\x1b]0;pwned\\x07\\x1b[2J');
    const e = inProcess('explain', '--model', w('evil.onnx'), '--image', w('a.png'), '--layer', 'nothing\x1b[2J', '--out', w('evil.png'));
    expect(e.status).toBe(1);
    expect(e.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(e.stderr).toContain("no layer named 'nothing\\x1b[2J'");
  });
});

describe('tinycam layers', () => {
  it('lists every layer once, in time linear in their number (the graph is asked for its layers once)', () => {
    const count = 2_000;
    const nodes: NodeSpec[] = [];
    for (let i = 0; i < count; i++) nodes.push({ op: 'Relu', inputs: [i ? `t${i - 1}` : 'x'], outputs: [`t${i}`], name: `r${i}` });
    writeFileSync(join(work, 'long.onnx'), onnxModel({ opset: 13, nodes, inputs: [{ name: 'x', dims: [1, 3, 2, 2] }], outputs: [{ name: `t${count - 1}` }] }));
    // Before, each row searched the whole layer list (quadratic: 20,000 nodes took minutes).
    const layers = vi.spyOn(GraphModule.prototype, 'layers');
    try {
      const r = inProcess('layers', w('long.onnx'));
      expect(r.status, r.stderr).toBe(0);
      const rows = r.stdout.trim().split('\n');
      expect(rows).toHaveLength(count + 1);
      expect(rows[count]).toMatch(/^t1999\s+Relu\s+\[1, 3, 2, 2\]$/);
      expect(layers).toHaveBeenCalledTimes(1);
    } finally {
      layers.mockRestore();
    }
  });
});
