/**
 * A seeded generator of 64x64 RGB "shape scenes": a textured background
 * (smooth colour noise, stripes, speckle), a few distractors (soft blobs and
 * thin lines) and one target shape (circle, square, triangle, cross or star)
 * at a random position, size, rotation and colour.
 *
 * It is the data tinycam's own model is trained and tested on, in the style of
 * the fixtures' shapes (../shared/fixtures/shapes/test). Pure TypeScript and
 * deterministic from the seed: the same seed gives the same bytes in Node, a
 * browser or an edge function (no Node built-ins, no Math.random).
 */
import { Rng } from '../../src/tensor/random.js';
import { ArgumentError } from '../../src/tensor/errors.js';

export const SCENE_SIZE = 64;
export const CLASSES = ['circle', 'square', 'triangle', 'cross', 'star'] as const;
export type ShapeClass = (typeof CLASSES)[number];

export interface Scene {
  /** The seed the scene was drawn from. */
  seed: number;
  width: number;
  height: number;
  /** RGB bytes, row-major, 3 per pixel (HWC). */
  rgb: Uint8Array;
  /** Index into CLASSES. */
  label: number;
  className: ShapeClass;
  /** [x0, y0, x1, y1], inclusive pixel coordinates of the mask (as the fixtures' labels.json). */
  box: [number, number, number, number];
  /** 1 where the target covers at least half the pixel, else 0 (row-major, width*height). */
  mask: Uint8Array;
}

export interface SceneOptions {
  /** Force the target's class (index into CLASSES); drawn from the seed when omitted. */
  label?: number;
}

type Rgb = [number, number, number];

// Sub-samples per pixel axis for the shape's coverage (4x4 = 16 per pixel):
// edges are anti-aliased like a rendered image, and the mask is coverage >= 0.5.
const SUPERSAMPLE = 4;

/** One scene, fully determined by `seed` (and `options.label` if given). */
export function generateScene(seed: number, options: SceneOptions = {}): Scene {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ArgumentError(`generateScene: seed ${seed} is not accepted; give an integer from 0 to 2^32-1`);
  }
  const label = options.label;
  if (label !== undefined && (!Number.isInteger(label) || label < 0 || label >= CLASSES.length)) {
    throw new ArgumentError(`generateScene: label ${label} is not a class index; accepted 0..${CLASSES.length - 1} (${CLASSES.join(', ')})`);
  }
  const rng = new Rng(seed);
  const size = SCENE_SIZE;
  // Work in float RGB, 0..255, planar per channel.
  const image = new Float32Array(size * size * 3);

  paintBackground(image, size, rng);
  paintBlobs(image, size, rng);
  paintLines(image, size, rng);

  const classIndex = label ?? rng.int(CLASSES.length);
  const coverage = shapeCoverage(CLASSES[classIndex]!, size, rng);
  const colour = targetColour(image, coverage, size, rng);
  for (let p = 0; p < size * size; p++) {
    const c = coverage[p]!;
    if (c === 0) continue;
    for (let ch = 0; ch < 3; ch++) {
      const i = p * 3 + ch;
      image[i] = image[i]! * (1 - c) + colour[ch]! * c;
    }
  }
  addSpeckle(image, rng);

  const rgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = clampByte(image[i]!);

  const mask = new Uint8Array(size * size);
  let x0 = size;
  let y0 = size;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (coverage[y * size + x]! < 0.5) continue;
      mask[y * size + x] = 1;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return {
    seed,
    width: size,
    height: size,
    rgb,
    label: classIndex,
    className: CLASSES[classIndex]!,
    box: [x0, y0, x1, y1],
    mask,
  };
}

/**
 * `count` scenes from consecutive seeds `firstSeed, firstSeed + 1, ...`,
 * with classes in turn (seed s gets class s mod 5) so every class is equally
 * represented.
 */
export function generateScenes(firstSeed: number, count: number): Scene[] {
  const scenes: Scene[] = [];
  for (let i = 0; i < count; i++) {
    const seed = firstSeed + i;
    scenes.push(generateScene(seed, { label: seed % CLASSES.length }));
  }
  return scenes;
}

/**
 * Seed ranges that never overlap: training draws from [0, 10^9), the test
 * set is the 1,000 seeds from 10^9, the demo's scenes come after those.
 */
export const TRAIN_SEED_BASE = 0;
export const TEST_SEED_BASE = 1_000_000_000;
export const DEMO_SEED_BASE = 2_000_000_000;

// ------------------------------------------------------------------ painting

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

function randomColour(rng: Rng): Rgb {
  return [rng.uniform() * 255, rng.uniform() * 255, rng.uniform() * 255];
}

/**
 * Smooth colour noise: two octaves of random colours on coarse grids,
 * bilinearly interpolated and muted, then an optional stripe pattern at a
 * random angle.
 */
function paintBackground(image: Float32Array, size: number, rng: Rng): void {
  const octaves = [
    { cells: 2 + rng.int(3), weight: 1 },
    { cells: 6 + rng.int(5), weight: 0.35 + 0.3 * rng.uniform() },
  ];
  let totalWeight = 0;
  for (const octave of octaves) totalWeight += octave.weight;
  for (const { cells, weight } of octaves) {
    const n = cells + 1;
    const grid = new Float32Array(n * n * 3);
    for (let i = 0; i < grid.length; i++) grid[i] = rng.uniform() * 255;
    const w = weight / totalWeight;
    for (let y = 0; y < size; y++) {
      const gy = ((y + 0.5) / size) * cells;
      const iy = Math.min(Math.floor(gy), cells - 1);
      const fy = smooth(gy - iy);
      for (let x = 0; x < size; x++) {
        const gx = ((x + 0.5) / size) * cells;
        const ix = Math.min(Math.floor(gx), cells - 1);
        const fx = smooth(gx - ix);
        for (let ch = 0; ch < 3; ch++) {
          const a = grid[(iy * n + ix) * 3 + ch]!;
          const b = grid[(iy * n + ix + 1) * 3 + ch]!;
          const c = grid[((iy + 1) * n + ix) * 3 + ch]!;
          const d = grid[((iy + 1) * n + ix + 1) * 3 + ch]!;
          const top = a + (b - a) * fx;
          const bottom = c + (d - c) * fx;
          image[(y * size + x) * 3 + ch] = image[(y * size + x) * 3 + ch]! + w * (top + (bottom - top) * fy);
        }
      }
    }
  }
  // Pull the colours towards their mean: a muted background, so the target
  // stands out (a small model must learn it in minutes on one core).
  const contrast = 0.5 + 0.3 * rng.uniform();
  const mean = [0, 0, 0];
  for (let i = 0; i < image.length; i++) mean[i % 3] = mean[i % 3]! + image[i]! / (size * size);
  for (let i = 0; i < image.length; i++) image[i] = mean[i % 3]! + contrast * (image[i]! - mean[i % 3]!);
  if (rng.uniform() < 0.3) {
    // Faint stripes: a sine wave across the image in a random direction and colour.
    const angle = rng.uniform() * Math.PI;
    const period = 6 + rng.uniform() * 10;
    const amplitude = 6 + rng.uniform() * 14;
    const tint = randomColour(rng).map((v) => v / 255 - 0.5);
    const ux = Math.cos(angle);
    const uy = Math.sin(angle);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const s = amplitude * Math.sin(((x * ux + y * uy) / period) * 2 * Math.PI);
        for (let ch = 0; ch < 3; ch++) image[(y * size + x) * 3 + ch] = image[(y * size + x) * 3 + ch]! + s * (0.5 + tint[ch]!);
      }
    }
  }
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** A few soft elliptical blobs of random colour: things that are not the target. */
function paintBlobs(image: Float32Array, size: number, rng: Rng): void {
  const count = 2 + rng.int(4);
  for (let k = 0; k < count; k++) {
    const cx = rng.uniform() * size;
    const cy = rng.uniform() * size;
    const rx = 3 + rng.uniform() * 8;
    const ry = 3 + rng.uniform() * 8;
    const strength = 0.3 + 0.4 * rng.uniform();
    const colour = randomColour(rng);
    const x0 = Math.max(0, Math.floor(cx - 2 * rx));
    const x1 = Math.min(size - 1, Math.ceil(cx + 2 * rx));
    const y0 = Math.max(0, Math.floor(cy - 2 * ry));
    const y1 = Math.min(size - 1, Math.ceil(cy + 2 * ry));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const dx = (x + 0.5 - cx) / rx;
        const dy = (y + 0.5 - cy) / ry;
        const a = strength * Math.exp(-(dx * dx + dy * dy));
        for (let ch = 0; ch < 3; ch++) {
          const i = (y * size + x) * 3 + ch;
          image[i] = image[i]! * (1 - a) + colour[ch]! * a;
        }
      }
    }
  }
}

/** Zero to two thin anti-aliased straight lines (the fixtures have them too). */
function paintLines(image: Float32Array, size: number, rng: Rng): void {
  const count = rng.int(3);
  for (let k = 0; k < count; k++) {
    const xa = rng.uniform() * size;
    const ya = rng.uniform() * size;
    const angle = rng.uniform() * Math.PI;
    const length = 15 + rng.uniform() * 40;
    const xb = xa + Math.cos(angle) * length;
    const yb = ya + Math.sin(angle) * length;
    const colour = randomColour(rng);
    const steps = Math.ceil(length * 2);
    for (let s = 0; s <= steps; s++) {
      const t = s / steps;
      const x = Math.floor(xa + (xb - xa) * t);
      const y = Math.floor(ya + (yb - ya) * t);
      if (x < 0 || y < 0 || x >= size || y >= size) continue;
      for (let ch = 0; ch < 3; ch++) {
        const i = (y * size + x) * 3 + ch;
        image[i] = 0.3 * image[i]! + 0.7 * colour[ch]!;
      }
    }
  }
}

/** Per-pixel Gaussian noise of a random strength (sensor-like speckle). */
function addSpeckle(image: Float32Array, rng: Rng): void {
  const sigma = 2 + rng.uniform() * 8;
  for (let i = 0; i < image.length; i++) image[i] = image[i]! + sigma * rng.normal();
}

// ------------------------------------------------------------------- shapes

/**
 * The target's coverage per pixel (0..1) at a random centre, radius and
 * rotation. Every class is sized by its circumradius `r`, so the classes
 * differ in form, not in size.
 */
function shapeCoverage(className: ShapeClass, size: number, rng: Rng): Float32Array {
  const r = 8 + rng.uniform() * 7; // circumradius 8..15 px: the shape spans 16..30 px
  const margin = r + 1;
  const cx = margin + rng.uniform() * (size - 2 * margin);
  const cy = margin + rng.uniform() * (size - 2 * margin);
  const rotation = rng.uniform() * 2 * Math.PI;
  const inside = insideTest(className, r);
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  const coverage = new Float32Array(size * size);
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(size - 1, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(size - 1, Math.ceil(cy + r + 1));
  const perPixel = SUPERSAMPLE * SUPERSAMPLE;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let hits = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const px = x + (sx + 0.5) / SUPERSAMPLE - cx;
          const py = y + (sy + 0.5) / SUPERSAMPLE - cy;
          // Rotate the sample into the shape's own frame.
          const u = cos * px + sin * py;
          const v = -sin * px + cos * py;
          if (inside(u, v)) hits++;
        }
      }
      coverage[y * size + x] = hits / perPixel;
    }
  }
  return coverage;
}

type InsideTest = (u: number, v: number) => boolean;

function insideTest(className: ShapeClass, r: number): InsideTest {
  switch (className) {
    case 'circle':
      return (u, v) => u * u + v * v <= r * r;
    case 'square': {
      const h = r * Math.SQRT1_2;
      return (u, v) => Math.abs(u) <= h && Math.abs(v) <= h;
    }
    case 'triangle':
      return polygonTest(regularPolygon(3, r, r));
    case 'cross': {
      const arm = r * 0.85;
      const half = r * 0.3;
      return (u, v) => {
        const au = Math.abs(u);
        const av = Math.abs(v);
        return (au <= arm && av <= half) || (av <= arm && au <= half);
      };
    }
    case 'star':
      return polygonTest(regularPolygon(5, r, r * 0.45));
  }
}

/** Vertices of a regular polygon (inner = outer) or a star (inner < outer), first vertex pointing up. */
function regularPolygon(points: number, outer: number, inner: number): number[] {
  const star = inner !== outer;
  const n = star ? points * 2 : points;
  const vertices: number[] = [];
  for (let k = 0; k < n; k++) {
    const radius = star && k % 2 === 1 ? inner : outer;
    const angle = -Math.PI / 2 + (k * 2 * Math.PI) / n;
    vertices.push(radius * Math.cos(angle), radius * Math.sin(angle));
  }
  return vertices;
}

/** Even-odd point-in-polygon test (works for the non-convex star). */
function polygonTest(vertices: number[]): InsideTest {
  const n = vertices.length / 2;
  return (u, v) => {
    let inside = false;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = vertices[2 * i]!;
      const yi = vertices[2 * i + 1]!;
      const xj = vertices[2 * j]!;
      const yj = vertices[2 * j + 1]!;
      if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
}

/**
 * A saturated colour that stands out from the background under the shape:
 * random hue, and redrawn (a few times, deterministically) while it is too
 * close to the mean colour it will cover.
 */
function targetColour(image: Float32Array, coverage: Float32Array, size: number, rng: Rng): Rgb {
  const under: Rgb = [0, 0, 0];
  let weight = 0;
  for (let p = 0; p < size * size; p++) {
    const c = coverage[p]!;
    if (c === 0) continue;
    weight += c;
    for (let ch = 0; ch < 3; ch++) under[ch] = under[ch]! + c * image[p * 3 + ch]!;
  }
  for (let ch = 0; ch < 3; ch++) under[ch] = under[ch]! / Math.max(weight, 1e-6);
  let best: Rgb = [0, 0, 0];
  let bestDistance = -1;
  for (let attempt = 0; attempt < 8; attempt++) {
    const colour = hsvToRgb(rng.uniform(), 0.5 + 0.5 * rng.uniform(), 0.25 + 0.75 * rng.uniform());
    const distance = Math.hypot(colour[0] - under[0], colour[1] - under[1], colour[2] - under[2]);
    if (distance > bestDistance) {
      best = colour;
      bestDistance = distance;
    }
    if (distance >= 120) break;
  }
  return best;
}

function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i % 6]!;
  return [r! * 255, g! * 255, b! * 255];
}
