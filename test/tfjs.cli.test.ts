/**
 * A Teachable Machine-shaped model (truncated MobileNet-like base, nested
 * Sequential head, metadata.json with labels) explained end to end through
 * the built `tinycam` command.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/index.js';
import { centerCrop, decodeImage, preprocess, resize, shorterSideSize } from '../src/image/index.js';
import { loadTfjsModelFile } from '../src/node/index.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import { TFJS_SCALING, toChannelsLast } from '../src/tfjs/index.js';
import { predict, saveModel } from './helpers/tfjs.js';
import { expectClose } from './helpers/tfjs-compare.js';
import { teachableMachineModel } from './helpers/tfjs-models.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PHOTO = join(ROOT, 'test/data/photos/chelsea.png');
const LABELS = ['cat', 'rocket', 'coffee'];
let work: string;
let cli: string;
let reference: ReturnType<typeof teachableMachineModel>;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tinycam-tfjs-cli-'));
  cli = join(ROOT, 'node_modules', '.cache', `tinycam-tfjs-cli-test-${process.pid}.mjs`);
  await build({
    entryPoints: [join(ROOT, 'src/cli/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    outfile: cli,
    packages: 'external',
    logLevel: 'silent',
  });
  // What Teachable Machine's "Download my model" gives: model.json, weights.bin, metadata.json.
  reference = teachableMachineModel(64, 3);
  const saved = await saveModel(reference);
  writeFileSync(join(work, 'model.json'), JSON.stringify(saved.modelJson));
  writeFileSync(join(work, 'weights.bin'), saved.weights);
  writeFileSync(
    join(work, 'metadata.json'),
    JSON.stringify({
      tfjsVersion: '1.3.1',
      tmVersion: '2.4.10',
      packageVersion: '0.8.4',
      packageName: '@teachablemachine/image',
      timeStamp: '2024-01-01T00:00:00.000Z',
      userMetadata: {},
      modelName: 'tm-my-image-model',
      labels: LABELS,
      imageSize: 64,
    }),
  );
}, 120_000);

describe('tinycam explain --model model.json (Teachable Machine)', () => {
  it('prints the classes by their metadata.json labels and writes the map the library computes', () => {
    const r = run('explain', '--model', 'model.json', '--image', PHOTO, '--out', 'cat.png', '--map-out', 'cat.safetensors', '--json', '--backend', 'js');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as { layers: string[]; top: { index: number; label: string }[]; target: number };
    expect(summary.layers).toEqual(['out_relu']);
    expect(summary.top.map((t) => t.label).sort()).toEqual([...LABELS].sort());
    expect(summary.top.every((t) => t.label === LABELS[t.index])).toBe(true);

    // The same explanation through the library: the picture the command shows the model,
    // Teachable Machine's pixel / 127 - 1, NHWC.
    const image = decodeImage(new Uint8Array(readFileSync(PHOTO)));
    const seen = centerCrop(resize(image, { ...shorterSideSize(image.width, image.height, 64), antialias: true }), { width: 64, height: 64 });
    const input = toChannelsLast(preprocess(seen, { ...TFJS_SCALING.teachableMachine }));
    const model = loadTfjsModelFile(join(work, 'model.json'));
    const result = gradCam(model, input, { layer: 'out_relu' });
    const map = loadSafetensors(new Uint8Array(readFileSync(join(work, 'cat.safetensors'))))['map']!;
    expect(Array.from(map.data)).toEqual(Array.from(result.maps.data));
    // The class the command explained is TensorFlow.js's top class for that input.
    const probabilities = predict(reference, input)[0]!;
    expectClose(model.forward(input), probabilities, 1e-4, 'probabilities');
    const best = Array.from(probabilities.data).indexOf(Math.max(...probabilities.data));
    expect(summary.target).toBe(best);
    expect(summary.top[0]!.index).toBe(best);
    expect(readFileSync(join(work, 'cat.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('tinycam layers model.json lists the Keras layers, nested ones included, and the CAM layer', () => {
    const r = run('layers', 'model.json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Conv1\s+Conv2D\s+\[1, 8, 32, 32\]$/m);
    expect(r.stdout).toMatch(/^out_relu\s+ReLU\s+\[1, 16, 32, 32\]$/m);
    expect(r.stdout).toMatch(/^dense_Dense2\s+Dense\s+\[1, 3\]$/m);
    expect(r.stdout).toMatch(/recommended CAM layer: out_relu/);
  });
});
