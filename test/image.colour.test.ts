import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyColormap,
  colormap,
  COLORMAP_NAMES,
  createImage,
  decodeImage,
  drawText,
  GLYPHS,
  grid,
  overlay,
  textWidth,
  type ColormapName,
  type RgbaImage,
} from '../src/image/index.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { Tensor } from '../src/tensor/tensor.js';
import { FIXTURES, loadCase, manifest } from './helpers/fixtures.js';
import { describeReference, referencePath } from './helpers/shared.js';

const REFERENCE = JSON.parse(readFileSync(join(referencePath('reference'), 'colormaps_opencv.json'), 'utf8')).maps as Record<string, number[][]>;

describe('colormap', () => {
  it.each(['jet', 'turbo', 'viridis', 'inferno', 'magma'] as const)('%s equals OpenCV\'s table in all 256 entries', (name) => {
    const table = colormap(name);
    expect(table.length).toBe(768);
    const ours = Array.from({ length: 256 }, (_, i) => Array.from(table.subarray(i * 3, i * 3 + 3)));
    expect(ours).toEqual(REFERENCE[name]);
  });

  it('jet is not the plain formula rounded: OpenCV\'s float32 path makes some entries differ', () => {
    // clamp(1.5 - |4x - 1|) * 255 at x = 159/255 is exactly 1.5 -> 2 by any rounding; OpenCV (and we) give 1.
    expect(colormap('jet')[159 * 3 + 2]).toBe(1);
    expect(REFERENCE.jet![159]![2]).toBe(1);
  });

  it('gray is the identity, tables are copies, unknown names are refused', () => {
    const g = colormap('gray');
    for (let i = 0; i < 256; i++) expect([g[i * 3], g[i * 3 + 1], g[i * 3 + 2]]).toEqual([i, i, i]);
    g[0] = 99;
    expect(colormap('gray')[0]).toBe(0);
    expect(COLORMAP_NAMES).toEqual(['jet', 'turbo', 'viridis', 'inferno', 'magma', 'gray']);
    expect(() => colormap('rainbow' as ColormapName)).toThrow(ArgumentError);
    expect(() => colormap('rainbow' as ColormapName)).toThrow(/accepted: 'jet', 'turbo'/);
  });

  it('applyColormap indexes with np.uint8(255 * map): truncation, clamping outside [0, 1]', () => {
    const m = new Tensor(Float32Array.from([0, 0.5, 1, -0.3, 1.7, NaN, 0.999, 2 / 255]), [2, 4]);
    const img = applyColormap(m, 'jet');
    const jet = REFERENCE.jet!;
    const expectedIndex = [0, 127, 255, 0, 255, 0, 254, 2];
    for (let i = 0; i < 8; i++) {
      expect(Array.from(img.data.subarray(i * 4, i * 4 + 4))).toEqual([...jet[expectedIndex[i]!]!, 255]);
    }
    expect(() => applyColormap(new Tensor(new Float32Array(8), [2, 2, 2]))).toThrow(/one map \[H, W\]/);
  });
});

// ---------------------------------------------------------------------------
// overlay against the formulas written out independently (float64, OpenCV's table from the reference file)

/** Independent bilinear (half-pixel centres, clamped), float64. */
function bilinear(src: ArrayLike<number>, H: number, W: number, h: number, w: number): Float64Array {
  const out = new Float64Array(h * w);
  const at = (o: number, n: number, m: number) => {
    const s = Math.max(0, ((o + 0.5) * n) / m - 0.5);
    const i0 = Math.min(Math.floor(s), n - 1);
    return [i0, Math.min(i0 + 1, n - 1), s - i0] as const;
  };
  for (let y = 0; y < h; y++) {
    const [y0, y1, fy] = at(y, H, h);
    for (let x = 0; x < w; x++) {
      const [x0, x1, fx] = at(x, W, w);
      out[y * w + x] =
        (src[y0 * W + x0]! * (1 - fx) + src[y0 * W + x1]! * fx) * (1 - fy) + (src[y1 * W + x0]! * (1 - fx) + src[y1 * W + x1]! * fx) * fy;
    }
  }
  return out;
}

/** heat = jet[uint8(255 m)] / 255; cam = a * heat + (1 - a) * img / 255; cam / max; uint8(255 cam). */
function referenceBlend(image: RgbaImage, map: ArrayLike<number>, heatWeight: number): number[] {
  const jet = REFERENCE.jet!;
  const n = image.width * image.height;
  const cam = new Float64Array(n * 3);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const idx = Math.min(255, Math.max(0, Math.floor(255 * map[i]!)));
    for (let c = 0; c < 3; c++) {
      const v = heatWeight * (jet[idx]![c]! / 255) + (1 - heatWeight) * (image.data[i * 4 + c]! / 255);
      cam[i * 3 + c] = v;
      max = Math.max(max, v);
    }
  }
  return Array.from(cam, (v) => Math.floor((255 * v) / max));
}

function rgbOf(img: RgbaImage): number[] {
  return Array.from(img.data).filter((_, i) => i % 4 !== 3);
}

const maxAbsDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describeReference('fixtures', 'overlay', () => {
  const shapes = manifest().cases.filter((c) => c.model === 'shapes_cnn' && c.id.includes('features.13') && c.id.startsWith('shapes_cnn/img'));

  it.each(shapes.map((c) => [c.id, c] as const))('%s: seed blend within 1/255 of the seed\'s formula', (_id, c) => {
    const png = (c as unknown as { input: { png: string } }).input.png;
    const image = decodeImage(new Uint8Array(readFileSync(join(FIXTURES, png))));
    const t = loadCase(c);
    // Full-size map: no resize involved.
    const full = t['gradcam/upsampled']!;
    const ours = overlay(image, full);
    expect(maxAbsDiff(rgbOf(ours), referenceBlend(image, full.data, 0.4))).toBeLessThanOrEqual(1);
    expect(ours.data.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
    // Low-resolution map: overlay resizes it with bilinear first.
    const small = t['gradcam/minmax']!;
    const [, h, w] = small.shape as [number, number, number];
    const resized = bilinear(small.data, h, w, image.height, image.width);
    const fromSmall = overlay(image, small);
    const expected = referenceBlend(image, resized, 0.4);
    // A map value that sits on a colour-index boundary may land one index apart
    // (float32 vs float64): allow 1/255 on all but a handful of channels.
    const diffs = rgbOf(fromSmall).map((v, i) => Math.abs(v - expected[i]!));
    expect(diffs.filter((d) => d > 1).length).toBeLessThanOrEqual(diffs.length * 0.002);
  });

  it('pytorch-grad-cam blend: (1 - image_weight) heat + image_weight img, image_weight 0.5 by default', () => {
    const c = shapes[0]!;
    const image = decodeImage(new Uint8Array(readFileSync(join(FIXTURES, (c as unknown as { input: { png: string } }).input.png))));
    const map = loadCase(c)['gradcam/upsampled']!;
    expect(maxAbsDiff(rgbOf(overlay(image, map, { blend: 'pytorch-grad-cam' })), referenceBlend(image, map.data, 0.5))).toBeLessThanOrEqual(1);
    expect(maxAbsDiff(rgbOf(overlay(image, map, { blend: 'pytorch-grad-cam', alpha: 0.7 })), referenceBlend(image, map.data, 0.7))).toBeLessThanOrEqual(1);
    // The seed's default really is 0.4 / 0.6: compared with 0.5 it is visibly different.
    expect(maxAbsDiff(rgbOf(overlay(image, map)), referenceBlend(image, map.data, 0.5))).toBeGreaterThan(5);
  });

  it('is in RGB order: a hot map over black is red, a cold one blue', () => {
    const black = createImage(1, 2);
    black.data.fill(0);
    const img = overlay(black, new Tensor(Float32Array.from([1, 0]), [2, 1]));
    // jet(255) = (128, 0, 0), jet(0) = (0, 0, 128); both scaled by the same max.
    expect(Array.from(img.data)).toEqual([255, 0, 0, 255, 0, 0, 255, 255]);
  });

  it('refuses bad options', () => {
    const image = createImage(2, 2);
    const map = new Tensor(new Float32Array(4), [2, 2]);
    expect(() => overlay(image, map, { alpha: 1.5 })).toThrow(/alpha must be in \[0, 1\]/);
    expect(() => overlay(image, map, { blend: 'cv2' as 'seed' })).toThrow(/accepted: 'seed', 'pytorch-grad-cam'/);
  });
});

describe('font and grid', () => {
  it('draws glyphs bit for bit', () => {
    const img = createImage(11, 7);
    drawText(img, 'Tl', 0, 0, [255, 255, 255, 255]);
    const on = (x: number, y: number) => img.data[(y * 11 + x) * 4 + 3] === 255;
    for (let x = 0; x < 5; x++) expect(on(x, 0)).toBe(true); // T's bar
    for (let y = 1; y < 7; y++) expect([on(1, y), on(2, y), on(3, y)]).toEqual([false, true, false]); // T's stem
    for (let y = 0; y < 7; y++) expect(on(6, y)).toBe(true); // 'l' is drawn as 'L': left column
    expect(on(10, 6) && !on(10, 5)).toBe(true); // L's foot
    expect(textWidth('GRAD-CAM++')).toBe(59);
    for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+') expect(GLYPHS[ch], ch).toHaveLength(7);
  });

  it('lays out image | heat-map | overlay per method, the row names in a column of their own', () => {
    const image = decodeImage(new Uint8Array(readFileSync(join(FIXTURES, 'shapes/test/0001.png'))));
    const t = loadCase(manifest().cases.find((c) => c.id === 'shapes_cnn/img0001__features.13__c3')!);
    const rows = [
      { name: 'Grad-CAM', image, map: t['gradcam/upsampled']! },
      { name: 'XGrad-CAM', image, map: t['gradcam/minmax']! },
    ];
    const out = grid(rows, { gap: 4, textScale: 1 });
    const header = 7 + 4;
    const labels = textWidth('XGRAD-CAM') + 4;
    const left = 4 + labels;
    expect(out.width).toBe(left + 3 * 64 + 2 * 4 + 4);
    expect(out.height).toBe(4 + header + 2 * (64 + 4));
    const cell = (x0: number, y0: number) => {
      const c = createImage(64, 64);
      for (let y = 0; y < 64; y++) c.data.set(out.data.subarray(((y0 + y) * out.width + x0) * 4, ((y0 + y) * out.width + x0 + 64) * 4), y * 64 * 4);
      return c;
    };
    const top = 4 + header;
    expect(Array.from(cell(left, top).data)).toEqual(Array.from(image.data));
    expect(Array.from(cell(left + 68, top).data)).toEqual(Array.from(applyColormap(rows[0]!.map).data));
    expect(Array.from(cell(left + 136, top).data)).toEqual(Array.from(overlay(image, rows[0]!.map).data));
    const top2 = top + 64 + 4;
    expect(Array.from(cell(left + 136, top2).data)).toEqual(Array.from(overlay(image, rows[1]!.map).data));
    // Ink (the text colour) in a box of the picture.
    const inkIn = (x0: number, y0: number, w: number, h: number) => {
      let n = 0;
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (out.data[(y * out.width + x) * 4] === 240 && out.data[(y * out.width + x) * 4 + 2] === 240) n++;
      return n;
    };
    // Each row's name is drawn in the label column, beside its row (centred), and nowhere in the header band;
    // the titles are drawn above the picture columns only: text never shares a place with other text.
    expect(inkIn(4, top + 28, textWidth('GRAD-CAM'), 7)).toBeGreaterThan(30);
    expect(inkIn(4, top2 + 28, textWidth('XGRAD-CAM'), 7)).toBeGreaterThan(30);
    expect(inkIn(0, 0, left, top)).toBe(0);
    expect(inkIn(left, 4, 3 * 64 + 8, 7)).toBeGreaterThan(60);
    expect(inkIn(left, top - 4, out.width - left, 4)).toBe(0);
    // Without the label column, the pictures start at the gap.
    const bare = grid(rows, { gap: 4, textScale: 1, rowLabels: false });
    expect(bare.width).toBe(4 + 3 * 64 + 2 * 4 + 4);
    expect(() => grid([])).toThrow(/non-empty array/);
  });
});
