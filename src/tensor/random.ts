import { Tensor, sizeOf, type Shape } from './tensor.js';
import { allocate } from './limits.js';

/**
 * A small seeded random generator (xoshiro128**, seeded through splitmix32),
 * so that every random tensor, noise draw and weight init is reproducible.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed = 0) {
    let x = seed >>> 0;
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * out[i] = low + (high - low) * uniform() for every i, in order: the same
   * numbers as that loop, with the generator's steps written out in one loop
   * (no call per number). A model's initial weights are drawn this way, and a
   * process that builds a model runs this loop cold: interpreted, a call per
   * number cost 1-2 us.
   */
  fillUniform(out: Float32Array, low: number, high: number): void {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    const span = high - low;
    for (let i = 0; i < out.length; i++) {
      const x = Math.imul(s1, 5) >>> 0;
      const r = ((x << 7) | (x >>> 25)) >>> 0;
      const result = Math.imul(r, 9) >>> 0;
      const t = (s1 << 9) >>> 0;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = ((s3 << 11) | (s3 >>> 21)) >>> 0;
      out[i] = low + span * (result / 4294967296);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

// Pure: an app that draws no random numbers does not bundle the generator.
let defaultRng = /* @__PURE__ */ new Rng(0);

/** Reseed the generator used when no `seed` or `rng` is given (like `torch.manual_seed`). */
export function manualSeed(seed: number): void {
  defaultRng = new Rng(seed);
}

export interface RandomOptions {
  /** Seed a fresh generator for this call. */
  seed?: number;
  /** Draw from this generator (advances it). */
  rng?: Rng;
}

function pick(options: RandomOptions): Rng {
  if (options.rng) return options.rng;
  if (options.seed !== undefined) return new Rng(options.seed);
  return defaultRng;
}

/** Normal samples, mean 0 and std 1 unless given. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const rng = pick(options);
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  const data = allocate(sizeOf(shape), 'randn');
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return new Tensor(data, shape);
}

/** Uniform samples in [low, high), [0, 1) unless given. */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const rng = pick(options);
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  const data = allocate(sizeOf(shape), 'rand');
  rng.fillUniform(data, low, high);
  return new Tensor(data, shape);
}
