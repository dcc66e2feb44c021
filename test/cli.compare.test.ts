/**
 * `tinycam compare` (src/cli/compare.ts): arguments, and the report it writes
 * for the fixtures' shapes_cnn.onnx on a fixture image.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/args.js';
import { compareCommand, parseCompareArgs } from '../src/cli/compare.js';
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
      expect(lines[0]).toMatch(/2 methods on 0000\.png \(class cross\) -> .*report\.html/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
