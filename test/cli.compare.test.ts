/**
 * `tinycam compare` (src/cli/compare.ts): arguments, and the report it writes
 * for the fixtures' shapes_cnn.onnx on a fixture image.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/args.js';
import { main } from '../src/cli/command.js';
import { COMPARE_HELP, compareCommand, parseCompareArgs } from '../src/cli/compare.js';
import { Terminal } from '../src/cli/terminal.js';
import { getBackend, setBackend } from '../src/tensor/backend.js';
import { runInProcess, testPng, tinyModel } from './cli.harness.js';
import { describeReference, referencePath } from './helpers/shared.js';

describe('tinycam compare: arguments', () => {
  it('reads method names as typed, with the explain command spellings', () => {
    const args = parseCompareArgs(['--model', 'm.onnx', '--image', 'x.png', '--methods', 'gradcam,GradCAM++,layercam,rise', '--metrics', 'roadcombined,deletion']);
    expect(args.methods).toEqual(['gradCam', 'gradCamPlusPlus', 'layerCam', 'rise']);
    expect(args.metrics).toEqual(['roadCombined', 'deletion']);
    expect(args.out).toBe('report.html');
  });

  it('refuses unknown methods and metrics, and missing --model or --image', () => {
    expect(() => parseCompareArgs(['--model', 'm.onnx', '--image', 'x.png', '--methods', 'magic'])).toThrow(UsageError);
    expect(() => parseCompareArgs(['--model', 'm.onnx', '--image', 'x.png', '--metrics', 'accuracy'])).toThrow(/unknown metric 'accuracy'/);
    expect(() => parseCompareArgs(['--image', 'x.png'])).toThrow(/needs --model/);
    expect(() => parseCompareArgs(['--model', 'm.onnx'])).toThrow(/needs --image/);
  });

  it("reads the model and image options as 'tinycam explain' does (same checks, same messages)", () => {
    const base = ['--model', 'm.onnx', '--image', 'x.png'];
    const args = parseCompareArgs([...base, '--size', '320x240', '--resize', '256', '--std', '0.2,0.3,0.4', '--target', '7']);
    expect(args.size).toEqual([240, 320]);
    expect(args.resize).toBe(256);
    expect(args.std).toEqual([0.2, 0.3, 0.4]);
    expect(args.target).toBe(7);
    expect(parseCompareArgs([...base, '--no-normalize']).mean).toEqual([0, 0, 0]);
    expect(() => parseCompareArgs([...base, '--std', '0,1,1'])).toThrow(/--std takes 3 comma-separated positive numbers/);
    expect(() => parseCompareArgs([...base, '--size', '0'])).toThrow(/--size takes a size in pixels from 1/);
    expect(() => parseCompareArgs([...base, '--steps', '2.5'])).toThrow(/--steps takes an integer from 1/);
    expect(() => parseCompareArgs([...base, '--target=-1'])).toThrow(/--target takes an integer from 0/);
  });

  it("takes --backend as 'tinycam explain' does: wasm by default, js, anything else a usage error", () => {
    const base = ['--model', 'm.onnx', '--image', 'x.png'];
    expect(parseCompareArgs(base).backend).toBe('wasm');
    expect(parseCompareArgs([...base, '--backend', 'js']).backend).toBe('js');
    const r = runInProcess(['compare', ...base, '--out', '/nonexistent/never.html', '--backend', 'gpu']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("tinycam: unknown --backend 'gpu'; accepted: js, wasm\nRun 'tinycam compare --help' for usage.\n");
    expect(COMPARE_HELP).toMatch(/--backend <name> +wasm \(default: the WebAssembly SIMD kernels/);
  });
});

describe('tinycam compare: the kernels', () => {
  it('runs on the WebAssembly kernels unless --backend js', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinycam-compare-backend-'));
    try {
      writeFileSync(join(dir, 'tiny.onnx'), tinyModel());
      writeFileSync(join(dir, 'a.png'), testPng(32, 32, 0));
      const compare = (out: string, ...extra: string[]) => {
        let stdout = '';
        let stderr = '';
        const terminal = new Terminal({ write: (t: string) => (stdout += t) }, { write: (t: string) => (stderr += t) }, false);
        const args = ['compare', '--model', join(dir, 'tiny.onnx'), '--image', join(dir, 'a.png'), '--methods', 'gradcam', '--metrics', 'averageDrop', '--layer', 'features', '--out', join(dir, out), ...extra];
        return Promise.resolve(main(args, terminal)).then((status) => ({ status, stdout, stderr, backend: getBackend() }));
      };
      // The command leaves this process on the kernels it ran on.
      const byDefault = await compare('wasm.html');
      expect(byDefault).toMatchObject({ status: 0, stderr: '', backend: 'wasm' });
      // No --labels: the class by its index, said once.
      expect(byDefault.stdout).toMatch(/^1 methods on a\.png \(class \d+\) -> .*wasm\.html\n/);
      const onJs = await compare('js.html', '--backend', 'js');
      expect(onJs).toMatchObject({ status: 0, stderr: '', backend: 'js' });
      expect(existsSync(join(dir, 'js.html'))).toBe(true);
    } finally {
      await setBackend('js');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeReference('fixtures', 'tinycam compare: the report for an ONNX model', () => {
  it('writes one self-contained page with every method and its scores', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinycam-compare-'));
    try {
      const labels = join(dir, 'labels.txt');
      writeFileSync(labels, 'circle\nsquare\ntriangle\ncross\nstar\n');
      const out = join(dir, 'report.html');
      const lines: string[] = [];
      const comparison = compareCommand(
        parseCompareArgs([
          '--model', referencePath('fixtures/models/shapes_cnn.onnx'),
          '--image', referencePath('fixtures/shapes/test/0000.png'),
          '--methods', 'gradcam,eigencam',
          '--metrics', 'confidenceChange,averageDrop',
          '--layer', 'features.13',
          '--labels', labels,
          '--out', out,
        ]),
        (l) => lines.push(l),
        () => {},
      );
      expect(comparison.targetLabel).toBe('cross');
      const html = readFileSync(out, 'utf8');
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).not.toMatch(/<(script|img|link)[^>]+(src|href)="(https?:|\/\/)/); // nothing fetched from elsewhere
      expect(html.match(/<figure data-method="/g)).toHaveLength(3);
      expect(html.match(/data:image\/png;base64,/g)).toHaveLength(3);
      expect(html).toMatch(/<tr data-method="gradCam">/);
      expect(lines[0]).toMatch(/2 methods on 0000\.png \(class \d+, cross\) -> .*report\.html/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
