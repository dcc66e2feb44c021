import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { gradCam, loadSafetensors } from '../src/index.js';
import { decodeImage, encodePng, overlay, preprocess } from '../src/image/index.js';
import { loadOnnxFile } from '../src/node/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import { buildCli, runCli } from './cli.harness.js';
import { FIXTURES, casesOf, expectClose, loadCase } from './helpers/fixtures.js';
import { describeReference, itReference } from './helpers/shared.js';

/*
 * The built command on the reference fixtures (../shared/fixtures): its map
 * equals the library call's and PyTorch's. The command's other behaviour is
 * tested in cli.command.test.ts, on a model built in the test.
 */

describeReference('fixtures', 'tinycam explain on the reference fixtures (the built command, end to end)', () => {
  const MODEL = join(FIXTURES, 'models/shapes_cnn.onnx');
  const IMAGE = join(FIXTURES, 'shapes/test/0000.png');
  let work: string;
  let cli: string;
  const run = (...args: string[]) => runCli(cli, work, args);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tinycam-cli-'));
    cli = await buildCli('fixtures');
  }, 120_000);

  it("writes an overlay whose map equals the library call's and PyTorch's", () => {
    const labels = join(work, 'labels.txt');
    writeFileSync(labels, 'circle\nsquare\ntriangle\ncross\nstar\n');
    const out = join(work, 'overlay.png');
    const mapOut = join(work, 'map.safetensors');
    const r = run('explain', '--model', MODEL, '--image', IMAGE, '--labels', labels, '--out', out, '--map-out', mapOut, '--layer', 'features.13', '--backend', 'js');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/1\. cross\s+99\.\d\d %/);
    expect(r.stdout.split('\n').filter((l) => /^\s+\d\. /.test(l))).toHaveLength(5);

    const cliMap = loadSafetensors(new Uint8Array(readFileSync(mapOut)))['map']!;
    // The same explanation through the library.
    const image = decodeImage(new Uint8Array(readFileSync(IMAGE)));
    const result = gradCam(loadOnnxFile(MODEL), preprocess(image), { layer: 'features.13' });
    const libMap = new Tensor(result.maps.data, [64, 64]);
    expect(Array.from(cliMap.data)).toEqual(Array.from(libMap.data));
    // ... and PyTorch's (pytorch-grad-cam's final map for this image, layer and class).
    const c = casesOf('shapes_cnn').find((x) => x.id === 'shapes_cnn/img0000__features.13__c3')!;
    expectClose(new Tensor(cliMap.data, [1, 64, 64]), loadCase(c)['gradcam/upsampled']!, 'CLI map vs PyTorch', {
      absolute: c.tolerances['gradcam']!.final_map,
    });
    // The overlay file is that map blended with the image (seed's blend, JET).
    const written = decodeImage(new Uint8Array(readFileSync(out)));
    const expected = decodeImage(encodePng(overlay(image, libMap)));
    expect(written.width).toBe(64);
    expect(Buffer.from(written.data).equals(Buffer.from(expected.data))).toBe(true);
  });

  it('prints JSON and picks the default layer and the top class by itself', () => {
    const r = run('explain', '--model', MODEL, '--image', IMAGE, '--out', join(work, 'o2.png'), '--json');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.target).toBe(3);
    expect(summary.layers).toHaveLength(1);
    expect(summary.top[0].index).toBe(3);
  });

  it('lists the layers with their shapes', () => {
    const r = run('layers', MODEL);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/features\.13\s+Relu\s+\[1, 64, 16, 16\]/);
    expect(r.stdout).toMatch(/\/features\/features\.13\/Relu_output_0\s+Relu\s+\[1, 64, 16, 16\]/);
  });

  it('explains usage mistakes with exit code 2 and failures with exit code 1', () => {
    expect(run('--help').status).toBe(0);
    expect(run('explain', '--help').stdout).toMatch(/--layer/);
    const noModel = run('explain', '--image', IMAGE);
    expect(noModel.status).toBe(2);
    expect(noModel.stderr).toMatch(/needs --model/);
    const badMethod = run('explain', '--model', MODEL, '--image', IMAGE, '--method', 'magic');
    expect(badMethod.status).toBe(2);
    expect(badMethod.stderr).toMatch(/unknown --method 'magic'; accepted: gradcam/);
    const badLayer = run('explain', '--model', MODEL, '--image', IMAGE, '--layer', 'features.99', '--out', join(work, 'bad.png'));
    expect(badLayer.status).toBe(1);
    expect(badLayer.stderr).toMatch(/no layer named 'features.99'/);
    const missing = run('explain', '--model', join(work, 'nope.onnx'), '--image', IMAGE, '--out', join(work, 'missing.png'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.onnx/);
  });

  itReference('fixtures/models/squeezenet1_1.safetensors', 'runs torchvision weights from safetensors with --arch', () => {
    const weights = join(FIXTURES, 'models/squeezenet1_1.safetensors');
    const r = run('explain', '--model', weights, '--arch', 'squeezenet1_1', '--image', IMAGE, '--size', '72', '--out', join(work, 's.png'), '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).layers).toEqual(['features.12']);
  });

  it('the built command is a plain Node script', () => {
    expect(run('methods').stdout).toMatch(/scorecam/);
  });
});
