import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { boxTarget, gradCam, rawTarget, segmentationTarget, vitReshape } from '../src/cam/index.js';
import { centerCrop, preprocess, resize, shorterSideSize, type RgbaImage } from '../src/image/index.js';
import { loadOnnx } from '../src/onnx/index.js';
import { noGrad } from '../src/tensor/autograd.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';
import { explainImage } from '../src/cli/explain.js';
import { methodByName } from '../src/cli/methods.js';
import { parseReshapeOption, reshapeTransform } from '../src/cli/reshape-option.js';
import { buildCli, runCli, runInProcess, testImage, testPng } from './cli.harness.js';
import { FIXTURES2, expectMatches, loadCase2, manifest2 } from './helpers/fixtures2.js';
import { describeShared } from './helpers/shared.js';
import { onnxModel } from './onnx.builder.js';

/*
 * The command on models whose output is not a [N, K] table, and on token
 * layers (issue 9, item 6): --reshape, --target seg: and box:, the score
 * line that replaces the top classes, and `layers` marking token layers.
 * Each map is checked against the library call the flags stand for.
 */

/** Deterministic values in [-scale, scale). */
const values = (n: number, seed: number, scale = 0.5): number[] => Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * scale);

const SIDE = 16;

/**
 * A ViT-like graph, input [1, 3, 16, 16]: patch embedding (Conv 4x4 stride
 * 4, 8 channels) -> tokens [1, 16, 8] -> a class token in front [1, 17, 8]
 * -> + position -> LayerNormalization ('tokens_ln', the layer explained)
 * -> MatMul 8x8 -> token mixing (MatMul by a [17, 17] matrix, so the class
 * token sees every patch) -> the class token -> Gemm to 3 logits.
 */
function vitModel(): Uint8Array {
  return onnxModel({
    opset: 17,
    nodes: [
      { op: 'Conv', inputs: ['image', 'wp', 'bp'], outputs: ['patches'], name: '/patch_embed/Conv', attrs: { kernel_shape: { ints: [4, 4] }, strides: { ints: [4, 4] } } },
      { op: 'Reshape', inputs: ['patches', 'flat_shape'], outputs: ['flat'], name: '/Reshape' },
      { op: 'Transpose', inputs: ['flat'], outputs: ['tokens'], name: '/Transpose', attrs: { perm: { ints: [0, 2, 1] } } },
      { op: 'Concat', inputs: ['cls', 'tokens'], outputs: ['with_cls'], name: '/Concat', attrs: { axis: { i: 1 } } },
      { op: 'Add', inputs: ['with_cls', 'pos'], outputs: ['embedded'], name: '/Add' },
      { op: 'LayerNormalization', inputs: ['embedded', 'ln_scale', 'ln_bias'], outputs: ['tokens_ln'], name: '/blocks/norm/LayerNormalization', attrs: { axis: { i: -1 } } },
      { op: 'MatMul', inputs: ['tokens_ln', 'wproj'], outputs: ['projected'], name: '/blocks/proj/MatMul' },
      { op: 'MatMul', inputs: ['mix', 'projected'], outputs: ['mixed'], name: '/blocks/mix/MatMul' },
      { op: 'Gather', inputs: ['mixed', 'zero'], outputs: ['cls_out'], name: '/Gather', attrs: { axis: { i: 1 } } },
      { op: 'Gemm', inputs: ['cls_out', 'whead', 'bhead'], outputs: ['logits'], name: '/head/Gemm', attrs: { transB: { i: 1 } } },
    ],
    inputs: [{ name: 'image', dims: [1, 3, SIDE, SIDE] }],
    outputs: [{ name: 'logits' }],
    initializers: [
      { name: 'wp', dims: [8, 3, 4, 4], floats: values(384, 1, 0.2) },
      { name: 'bp', dims: [8], floats: values(8, 2, 0.1) },
      { name: 'flat_shape', dims: [3], ints: [1, 8, 16] },
      { name: 'cls', dims: [1, 1, 8], floats: values(8, 3) },
      { name: 'pos', dims: [1, 17, 8], floats: values(136, 4, 0.1) },
      { name: 'ln_scale', dims: [8], floats: values(8, 5, 0.5).map((v) => 1 + v) },
      { name: 'ln_bias', dims: [8], floats: values(8, 6, 0.1) },
      { name: 'wproj', dims: [8, 8], floats: values(64, 7) },
      { name: 'mix', dims: [17, 17], floats: values(289, 8, 0.3) },
      { name: 'zero', dims: [], ints: [0] },
      { name: 'whead', dims: [3, 8], floats: values(24, 9) },
      { name: 'bhead', dims: [3], floats: [0.1, -0.2, 0.05] },
    ],
  });
}

/** A segmentation graph: Conv 3->4 (3x3, pad 1) -> Relu ('features') -> Conv 1x1 4->3 -> 'seg' [1, 3, 16, 16]. */
function segModel(): Uint8Array {
  return onnxModel({
    opset: 13,
    nodes: [
      { op: 'Conv', inputs: ['image', 'w1', 'b1'], outputs: ['conv1'], name: '/backbone/Conv', attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } },
      { op: 'Relu', inputs: ['conv1'], outputs: ['features'], name: '/backbone/Relu' },
      { op: 'Conv', inputs: ['features', 'w2', 'b2'], outputs: ['seg'], name: '/classifier/Conv', attrs: { kernel_shape: { ints: [1, 1] } } },
    ],
    inputs: [{ name: 'image', dims: [1, 3, SIDE, SIDE] }],
    outputs: [{ name: 'seg' }],
    initializers: [
      { name: 'w1', dims: [4, 3, 3, 3], floats: values(108, 11) },
      { name: 'b1', dims: [4], floats: [0.05, 0.1, -0.02, 0.2] },
      { name: 'w2', dims: [3, 4, 1, 1], floats: values(12, 12, 1) },
      { name: 'b2', dims: [3], floats: [0.1, -0.1, 0] },
    ],
  });
}

/**
 * A YOLOv8-shaped head: Conv 3->4 (3x3, stride 2, pad 1) -> Relu
 * ('features') -> Conv 1x1 4->6 -> Reshape to 'head' [1, 4 + 2, 64]: per
 * anchor a box (cx, cy, w, h, near the middle of the 16x16 input) and 2
 * class scores.
 */
function detectorModel(): Uint8Array {
  return onnxModel({
    opset: 13,
    nodes: [
      { op: 'Conv', inputs: ['image', 'w1', 'b1'], outputs: ['conv1'], name: '/backbone/Conv', attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] }, strides: { ints: [2, 2] } } },
      { op: 'Relu', inputs: ['conv1'], outputs: ['features'], name: '/backbone/Relu' },
      { op: 'Conv', inputs: ['features', 'w2', 'b2'], outputs: ['raw'], name: '/head/Conv', attrs: { kernel_shape: { ints: [1, 1] } } },
      { op: 'Reshape', inputs: ['raw', 'head_shape'], outputs: ['head'], name: '/head/Reshape' },
    ],
    inputs: [{ name: 'image', dims: [1, 3, SIDE, SIDE] }],
    outputs: [{ name: 'head' }],
    initializers: [
      { name: 'w1', dims: [4, 3, 3, 3], floats: values(108, 21) },
      { name: 'b1', dims: [4], floats: [0.05, 0.1, -0.02, 0.2] },
      { name: 'w2', dims: [6, 4, 1, 1], floats: values(24, 22, 1) },
      { name: 'b2', dims: [6], floats: [8, 8, 10, 10, 0, 0] },
      { name: 'head_shape', dims: [3], ints: [1, 6, -1] },
    ],
  });
}

/** A regression graph: Conv -> Relu ('features') -> GlobalAveragePool -> Flatten -> Gemm 4->1 -> Reshape to 'value' [1]. */
function regressionModel(): Uint8Array {
  return onnxModel({
    opset: 13,
    nodes: [
      { op: 'Conv', inputs: ['image', 'w1', 'b1'], outputs: ['conv1'], name: '/backbone/Conv', attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } },
      { op: 'Relu', inputs: ['conv1'], outputs: ['features'], name: '/backbone/Relu' },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['pooled'], name: '/pool' },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'], name: '/flatten' },
      { op: 'Gemm', inputs: ['flat', 'w2', 'b2'], outputs: ['fc'], name: '/fc/Gemm', attrs: { transB: { i: 1 } } },
      { op: 'Reshape', inputs: ['fc', 'one'], outputs: ['value'], name: '/Reshape' },
    ],
    inputs: [{ name: 'image', dims: [1, 3, SIDE, SIDE] }],
    outputs: [{ name: 'value' }],
    initializers: [
      { name: 'w1', dims: [4, 3, 3, 3], floats: values(108, 31) },
      { name: 'b1', dims: [4], floats: [0.05, 0.1, -0.02, 0.2] },
      { name: 'w2', dims: [1, 4], floats: [1.5, -0.5, 0.8, 0.2] },
      { name: 'b2', dims: [1], floats: [0.3] },
      { name: 'one', dims: [1], ints: [1] },
    ],
  });
}

let cli: string;
let work: string;
const w = (file: string) => join(work, file);
const inProcess = (...args: string[]) => runInProcess(args);
const mapOf = (file: string) => loadSafetensors(new Uint8Array(readFileSync(w(file))))['map']!;

/** The picture the command feeds the model, as explain.ts makes it. */
function seen(): RgbaImage {
  const image = testImage(SIDE, SIDE, 1);
  return centerCrop(resize(image, { ...shorterSideSize(image.width, image.height, SIDE), antialias: true }), { width: SIDE, height: SIDE });
}
const input = () => preprocess(seen());

beforeAll(async () => {
  cli = await buildCli('outputs');
  work = mkdtempSync(join(tmpdir(), 'tinycam-cli-outputs-'));
  writeFileSync(w('a.png'), testPng(SIDE, SIDE, 1));
  writeFileSync(w('vit.onnx'), vitModel());
  writeFileSync(w('seg.onnx'), segModel());
  writeFileSync(w('det.onnx'), detectorModel());
  writeFileSync(w('reg.onnx'), regressionModel());
  writeFileSync(w('labels.txt'), 'background\nsquare\ncross\n');
}, 120_000);

describe('token layers', () => {
  it('--reshape vit:4x4:1 gives the map of the library call with vitReshape (the built command)', () => {
    const r = runCli(cli, work, ['explain', '--model', 'vit.onnx', '--image', 'a.png', '--layer', 'tokens_ln', '--reshape', 'vit:4x4:1', '--out', 'vit.png', '--map-out', 'vit.safetensors', '--backend', 'js']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('gradcam at tokens_ln (--reshape vit:4x4:1) for class');
    const lib = gradCam(loadOnnx(vitModel()), input(), { layer: 'tokens_ln', reshape: vitReshape({ grid: [4, 4], prefixTokens: 1 }) });
    expect(lib.maps.data.some((v) => v > 0 && v < 1)).toBe(true);
    expect(Array.from(mapOf('vit.safetensors').data)).toEqual(Array.from(lib.maps.data));
  });

  it('without --reshape, a token layer is a usage error that gives the --reshape to pass', () => {
    const r = inProcess('explain', '--model', w('vit.onnx'), '--image', w('a.png'), '--layer', 'tokens_ln', '--out', w('vit-no.png'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("layer 'tokens_ln' outputs tokens [1, 17, 8], not [N, C, h, w]; pass --reshape vit:4x4:1 (17 tokens = 1 class token + a 4x4 grid)");
    expect(r.stderr).toContain("Run 'tinycam explain --help' for usage.");
  });

  it('a grid that does not fit the tokens is the library error, exit 1', () => {
    const r = inProcess('explain', '--model', w('vit.onnx'), '--image', w('a.png'), '--layer', 'tokens_ln', '--reshape', 'vit:3x5:1', '--out', w('vit-bad.png'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('do not fill the grid 3x5');
  });

  it('layers lists token layers with their shapes and the --reshape they need', () => {
    const r = runCli(cli, work, ['layers', 'vit.onnx']);
    expect(r.status).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('tokens_ln ') || /^\S*norm\S*\s/.test(l));
    expect(line).toMatch(/\[1, 17, 8\]\s+tokens: use --reshape vit:4x4:1$/);
    expect(r.stdout.split('\n').find((l) => /\[1, 8, 4, 4\]/.test(l))).not.toContain('tokens:');
  });
});

describe('segmentation, detection and regression outputs', () => {
  it('seg:<class> explains the class over the pixels where it is the top class, as segmentationTarget', () => {
    const r = runCli(cli, work, ['explain', '--model', 'seg.onnx', '--image', 'a.png', '--target', 'seg:cross', '--labels', 'labels.txt', '--layer', 'features', '--out', 'seg.png', '--map-out', 'seg.safetensors', '--backend', 'js']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const graph = loadOnnx(segModel());
    const out = noGrad(() => graph.forward(input()));
    const pixels = SIDE * SIDE;
    const mask = new Float32Array(pixels);
    let expectedScore = 0;
    for (let p = 0; p < pixels; p++) {
      const scores = [0, 1, 2].map((k) => out.data[k * pixels + p]!);
      // Class 2 is the argmax (the first of equal scores wins, as torch.argmax).
      if (scores[2]! > scores[0]! && scores[2]! > scores[1]!) {
        mask[p] = 1;
        expectedScore += scores[2]!;
      }
    }
    const count = mask.reduce((a, b) => a + b, 0);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(pixels);
    const lib = gradCam(graph, input(), { layer: 'features', target: segmentationTarget(2, new Tensor(mask, [SIDE, SIDE])) });
    expect(Array.from(mapOf('seg.safetensors').data)).toEqual(Array.from(lib.maps.data));
    // No top-class table: the target and its score instead.
    expect(r.stdout).not.toMatch(/^\s+1\. /m);
    expect(r.stdout).toContain(`output 'seg' [1, 3, 16, 16]: segmentation class 2 (cross), summed over the ${count} of ${pixels} pixels where it is the top class, score `);
    const json = JSON.parse(inProcess('explain', '--model', w('seg.onnx'), '--image', w('a.png'), '--target', 'seg:2', '--layer', 'features', '--out', w('seg2.png'), '--json').stdout);
    expect(json).toMatchObject({ target: 2, targetKind: 'segmentation', outputShape: [1, 3, 16, 16], top: [], mask: { rule: 'argmax', pixels: count, of: pixels } });
    expect(json.score).toBeCloseTo(expectedScore, 3);
  });

  it('seg:<class> without --layer explains the last layer with a map, not the model itself', () => {
    const r = inProcess('explain', '--model', w('seg.onnx'), '--image', w('a.png'), '--target', 'seg:2', '--out', w('seg-default.png'), '--map-out', w('seg-default.safetensors'), '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.layers).toHaveLength(1);
    expect(json.layers[0]).not.toBe('');
    const graph = loadOnnx(segModel());
    const mask = new Tensor(new Float32Array(SIDE * SIDE), [SIDE, SIDE]);
    const out = noGrad(() => graph.forward(input()));
    for (let p = 0; p < SIDE * SIDE; p++) mask.data[p] = out.data[2 * SIDE * SIDE + p]! > Math.max(out.data[p]!, out.data[SIDE * SIDE + p]!) ? 1 : 0;
    const lib = gradCam(graph, input(), { layer: json.layers[0], target: segmentationTarget(2, mask) });
    expect(Array.from(mapOf('seg-default.safetensors').data)).toEqual(Array.from(lib.maps.data));
  });

  it('seg:<class> of a class that is the top class nowhere explains it over every pixel, and says so', () => {
    const r = inProcess('explain', '--model', w('seg.onnx'), '--image', w('a.png'), '--target', 'seg:1', '--layer', 'features', '--out', w('seg1.png'), '--map-out', w('seg1.safetensors'), '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ target: 1, targetKind: 'segmentation', mask: { rule: 'all', pixels: SIDE * SIDE, of: SIDE * SIDE } });
    const lib = gradCam(loadOnnx(segModel()), input(), { layer: 'features', target: segmentationTarget(1, new Tensor(new Float32Array(SIDE * SIDE).fill(1), [SIDE, SIDE])) });
    expect(Array.from(mapOf('seg1.safetensors').data)).toEqual(Array.from(lib.maps.data));
  });

  it('without --target, a per-pixel output is a usage error that names the target forms', () => {
    const r = inProcess('explain', '--model', w('seg.onnx'), '--image', w('a.png'), '--out', w('seg3.png'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("output 'seg' [1, 3, 16, 16] is not class scores [N, K]");
    expect(r.stderr).toContain('--target seg:<class>');
    expect(r.stderr).toContain('--target box:<class>@x1,y1,x2,y2');
  });

  it('box:<class>@x1,y1,x2,y2 on a YOLOv8-shaped head is boxTarget (format detected)', () => {
    const box = [3, 3, 13, 13] as const;
    const r = inProcess('explain', '--model', w('det.onnx'), '--image', w('a.png'), '--target', `box:0@${box.join(',')}`, '--layer', 'features', '--out', w('det.png'), '--map-out', w('det.safetensors'), '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const graph = loadOnnx(detectorModel());
    const target = boxTarget(box, 0, { format: 'yolov8' });
    const head = noGrad(() => graph.forward(input()));
    const score = noGrad(() => target(head, [0], { head })).data[0]!;
    expect(score).toBeGreaterThan(0); // some anchors match: the map is not trivially zero
    const lib = gradCam(graph, input(), { layer: 'features', target });
    expect(Array.from(mapOf('det.safetensors').data)).toEqual(Array.from(lib.maps.data));
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ target: 0, targetKind: 'box', boxFormat: 'yolov8', box: [...box], outputShape: [1, 6, 64], top: [] });
    expect(json.score).toBeCloseTo(score, 4);
    // --box-format overrides the detection: yolov5 reads the tensor as [N, anchors, 5 + K] (here 6 anchors of 59 classes).
    const v5 = inProcess('explain', '--model', w('det.onnx'), '--image', w('a.png'), '--target', `box:0@${box.join(',')}`, '--box-format', 'yolov5', '--layer', 'features', '--out', w('det5.png'), '--json');
    expect(v5.status).toBe(0);
    const v5Score = noGrad(() => boxTarget(box, 0, { format: 'yolov5' })(head, [0], { head })).data[0]!;
    expect(JSON.parse(v5.stdout)).toMatchObject({ boxFormat: 'yolov5', score: v5Score });
  });

  it('a single value per image is explained as it is (rawTarget), with its score printed', () => {
    const r = inProcess('explain', '--model', w('reg.onnx'), '--image', w('a.png'), '--layer', 'features', '--out', w('reg.png'), '--map-out', w('reg.safetensors'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const graph = loadOnnx(regressionModel());
    const value = noGrad(() => graph.forward(input())).data[0]!;
    expect(r.stdout).toContain(`output 'value' [1]: the raw output (one value per image), score ${value.toFixed(4)}`);
    expect(r.stdout).toContain('gradcam at features for the raw output -> ');
    const lib = gradCam(graph, input(), { layer: 'features', target: rawTarget() });
    expect(Array.from(mapOf('reg.safetensors').data)).toEqual(Array.from(lib.maps.data));
  });
});

describe('malformed forms', () => {
  const cases: [string[], string][] = [
    [['--target', 'seg:'], "--target 'seg:' names no class"],
    [['--target', 'box:0@1,2,3'], 'box:<class>@x1,y1,x2,y2 takes a class and four numbers'],
    [['--target', 'box:0'], "--target 'box:0' is not a box"],
    [['--target', 'box:0@5,5,1,1'], 'x2 >= x1 and y2 >= y1'],
    [['--target', 'box:@1,2,3,4'], 'names no class'],
    [['--reshape', 'vit:4y4'], "--reshape takes 'vit:<rows>x<columns>[:<prefix tokens>]'"],
    [['--reshape', 'vit:0x4:1'], "(got 'vit:0x4:1')"],
    [['--box-format', 'ssd', '--target', 'box:0@1,2,3,4'], '--box-format takes yolov8, yolov5, torchvision'],
    [['--box-format', 'yolov8'], '--box-format goes with a box target'],
    [['--reshape', 'vit', '--method', 'saliency'], '--reshape applies to a layer'],
  ];
  for (const [flags, message] of cases) {
    it(`${flags.join(' ')}: exit 2 with the accepted forms`, () => {
      const r = inProcess('explain', '--model', w('seg.onnx'), '--image', w('a.png'), '--out', w('bad.png'), ...flags);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(message);
      if (flags[0] === '--target') expect(r.stderr).toContain("'seg:<class>' (segmentation) or 'box:<class>@x1,y1,x2,y2'");
    });
  }
});

/*
 * Against PyTorch: ../shared/fixtures2 cases run through the command's own
 * code (explainImage, with the fixture's input tensor in place of a decoded
 * picture), the flags' meanings checked against pytorch-grad-cam's maps and
 * scores within each case's tolerances.
 */
describeShared('fixtures2', 'the command on fixtures2 (ViT and Swin with --reshape, FCN with seg:, regression), against PyTorch', () => {
  const cases: [id: string, settings: { target?: number | { kind: 'seg'; class: number }; reshape?: string }, kind: string][] = [
    ['vit_tiny/rand0__encoder.layers.encoder_layer_1.ln_1__c5', { target: 5, reshape: 'vit:4x4:1' }, 'class'],
    ['swin_mini/rand0__features.3.0.norm1__c9', { target: 9, reshape: 'swin' }, 'class'],
    ['fcn_mini/rand1__backbone.16__k1', { target: { kind: 'seg', class: 1 } }, 'segmentation'],
    ['regress_cnn/rand0__features.10__raw', {}, 'raw'],
  ];
  for (const [id, settings, kind] of cases) {
    it(id, () => {
      const c = manifest2().cases.find((k) => k.id === id)!;
      const onnx = (manifest2() as unknown as { models: { name: string; onnx: Record<string, string> }[] }).models.find((m) => m.name === c.model)!.onnx['opset17']!;
      const model = loadOnnx(readFileSync(join(FIXTURES2, onnx)));
      const ref = loadCase2(c);
      const [h, w] = ref.input!.shape.slice(2) as [number, number];
      const reshape = settings.reshape !== undefined ? parseReshapeOption(settings.reshape)! : undefined;
      const explained = explainImage(model, ref.input!, testImage(w, h), {
        method: 'gradcam', methodSpec: methodByName('gradcam')!.spec, layer: c.layer.module,
        ...(settings.target !== undefined ? { target: settings.target } : {}),
        ...(reshape ? { reshape: reshapeTransform(reshape), reshapeText: settings.reshape! } : {}),
        explainProbability: false, colormap: 'jet', alpha: 0.4, blend: 'seed', top: 3,
      });
      expect(explained.summary.targetKind).toBe(kind);
      expect(explained.summary.top.length).toBe(kind === 'class' ? 3 : 0);
      expectMatches(c, ref, explained.summary.score, 'tensors', 'score', 'scalar', { tensorName: 'score' });
      expectMatches(c, ref, new Tensor(explained.tensors['map']!.data, [1, h, w]), 'gradcam', 'upsampled', 'map');
      if (kind === 'segmentation') {
        expect(explained.summary.mask).toEqual({ rule: 'argmax', pixels: ref.target_mask!.data.reduce((a, b) => a + b, 0), of: h * w });
      }
    });
  }
});
