import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/tensor/errors.js';
import { Tensor } from '../src/tensor/tensor.js';
import {
  CLASSES,
  SCENE_SIZE,
  TEST_SEED_BASE,
  generateScene,
  generateScenes,
  type Scene,
} from '../examples/shapes/generate.js';
import { pointingHit, scenesToTensor } from '../examples/shapes/data.js';

const SEED_7_FINGERPRINT = { hash: 'cf8af0fc', label: 3, box: [33, 41, 50, 58] };

function maskArea(scene: Scene): number {
  let area = 0;
  for (const m of scene.mask) area += m;
  return area;
}

describe('shape scene generator', () => {
  it('gives the same bytes, label, box and mask for the same seed, and different ones for another', () => {
    const a = generateScene(12345);
    const b = generateScene(12345);
    expect(b.rgb).toEqual(a.rgb);
    expect(b.mask).toEqual(a.mask);
    expect(b.label).toBe(a.label);
    expect(b.box).toEqual(a.box);
    const c = generateScene(12346);
    let differing = 0;
    for (let i = 0; i < a.rgb.length; i++) if (a.rgb[i] !== c.rgb[i]) differing++;
    expect(differing).toBeGreaterThan(a.rgb.length / 2);
  });

  it('is stable across versions: a fingerprint of seed 7 (update deliberately if the generator changes)', () => {
    // FNV-1a over the bytes: catches an accidental change to the drawing code,
    // which would silently invalidate the committed weights' test numbers.
    const scene = generateScene(7);
    let hash = 0x811c9dc5;
    for (const byte of scene.rgb) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    for (const byte of scene.mask) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    // Recorded when the weights were trained. Bytes are rounded, so engines
    // whose Math.sin/exp differ in the last ulp still agree.
    expect({ hash: hash.toString(16), label: scene.label, box: scene.box }).toEqual(SEED_7_FINGERPRINT);
  });

  it('makes 64x64 RGB scenes whose box is exactly the extent of the mask', () => {
    for (const scene of generateScenes(TEST_SEED_BASE, 100)) {
      expect(scene.width).toBe(SCENE_SIZE);
      expect(scene.height).toBe(SCENE_SIZE);
      expect(scene.rgb.length).toBe(SCENE_SIZE * SCENE_SIZE * 3);
      const [x0, y0, x1, y1] = scene.box;
      let minX = Infinity;
      let minY = Infinity;
      let maxX = -Infinity;
      let maxY = -Infinity;
      for (let y = 0; y < SCENE_SIZE; y++) {
        for (let x = 0; x < SCENE_SIZE; x++) {
          const m = scene.mask[y * SCENE_SIZE + x]!;
          if (m !== 0 && m !== 1) throw new Error(`mask value ${m} at (${x}, ${y}) is not 0 or 1`);
          if (!m) continue;
          minX = Math.min(minX, x);
          minY = Math.min(minY, y);
          maxX = Math.max(maxX, x);
          maxY = Math.max(maxY, y);
        }
      }
      expect([minX, minY, maxX, maxY]).toEqual([x0, y0, x1, y1]);
      // The target is entirely in the picture and neither tiny nor huge.
      expect(x0).toBeGreaterThanOrEqual(0);
      expect(y0).toBeGreaterThanOrEqual(0);
      expect(x1).toBeLessThan(SCENE_SIZE);
      expect(y1).toBeLessThan(SCENE_SIZE);
      expect(x1 - x0 + 1).toBeGreaterThanOrEqual(8);
      expect(x1 - x0 + 1).toBeLessThanOrEqual(32);
    }
  });

  it('draws each class with its own geometry (mask area over box area)', () => {
    // Independent facts about the forms: a disc of diameter w (pixels) has
    // about pi w^2 / 4 pixels in a w x w box (a little less at these sizes);
    // a square rotated by t fills 1/(|cos t|+|sin t|)^2, between 1/2 and 1;
    // a five-pointed star with inner radius 0.45 R fills far less.
    const fill = (scene: Scene) => {
      const [x0, y0, x1, y1] = scene.box;
      return maskArea(scene) / ((x1 - x0 + 1) * (y1 - y0 + 1));
    };
    const byClass = new Map<string, number[]>();
    for (const scene of generateScenes(TEST_SEED_BASE, 200)) {
      const list = byClass.get(scene.className) ?? [];
      list.push(fill(scene));
      byClass.set(scene.className, list);
    }
    for (const scene of generateScenes(TEST_SEED_BASE, 100).filter((s) => s.className === 'circle')) {
      const [x0, y0, x1, y1] = scene.box;
      expect(Math.abs(x1 - x0 - (y1 - y0))).toBeLessThanOrEqual(1);
      const f = fill(scene);
      expect(f).toBeGreaterThan(0.68);
      expect(f).toBeLessThan(0.82);
    }
    for (const f of byClass.get('square')!) {
      expect(f).toBeGreaterThan(0.45);
      expect(f).toBeLessThanOrEqual(1);
    }
    for (const f of byClass.get('star')!) expect(f).toBeLessThan(0.5);
  });

  it('balances classes over consecutive seeds and honours a forced label', () => {
    const scenes = generateScenes(1000, 50);
    const counts = new Array<number>(CLASSES.length).fill(0);
    for (const s of scenes) {
      counts[s.label]!++;
      expect(s.className).toBe(CLASSES[s.label]);
    }
    expect(counts).toEqual([10, 10, 10, 10, 10]);
    expect(generateScene(99, { label: 4 }).className).toBe('star');
  });

  it('rejects seeds and labels it cannot use, with a typed error', () => {
    expect(() => generateScene(-1)).toThrow(ArgumentError);
    expect(() => generateScene(1.5)).toThrow(ArgumentError);
    expect(() => generateScene(1, { label: 5 })).toThrow(/label 5/);
  });
});

describe('scene helpers', () => {
  it('normalises with ImageNet mean and std into NCHW', () => {
    const scene = generateScene(3);
    const x = scenesToTensor([scene]);
    expect(x.shape).toEqual([1, 3, 64, 64]);
    // Pixel (x=5, y=9), green channel, computed by hand from the bytes.
    const p = 9 * 64 + 5;
    expect(x.get(0, 1, 9, 5)).toBeCloseTo((scene.rgb[p * 3 + 1]! / 255 - 0.456) / 0.224, 5);
  });

  it('scores the pointing game by the first maximum of the map', () => {
    const maps = new Tensor(new Float32Array(2 * 4 * 4), [2, 4, 4]);
    maps.data[0 * 16 + 2 * 4 + 3] = 1; // map 0 peaks at x=3, y=2
    maps.data[1 * 16 + 0] = 1; // map 1 peaks at x=0, y=0
    expect(pointingHit(maps, 0, [3, 2, 3, 2])).toBe(true);
    expect(pointingHit(maps, 0, [0, 0, 2, 3])).toBe(false);
    expect(pointingHit(maps, 1, [0, 0, 0, 0])).toBe(true);
  });
});
