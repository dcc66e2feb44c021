import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadSafetensors } from '../../src/tensor/safetensors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { Module } from '../../src/layers/module.js';
import { buildModule, checkTree, type ArchModules } from './fixture-models.js';
import { maxAbs, maxAbsDiff } from './fixtures.js';
import { SHARED } from './shared.js';

/** ../shared/fixtures2: the second reference set (read its README.md and manifest.json). */
export const FIXTURES2 = join(SHARED, 'fixtures2');

/** Per quantity tolerances of one path (`gradcam`, `target_softmax/shapleycam`, ...). */
export type PathTolerances = Record<string, number | boolean> & { ill_conditioned: boolean };

export interface Fixture2Case {
  id: string;
  file: string;
  part: 'A' | 'B';
  model: string;
  layer: { module: string; shape: number[] };
  target: { kind: string; category?: number };
  methods: string[];
  method_settings: Record<string, Record<string, unknown>>;
  target_variants?: Record<string, { methods: string[] }>;
  tensors: Record<string, number[]>;
  tolerances: Record<string, PathTolerances>;
}

interface Manifest2 {
  cases: Fixture2Case[];
}

let cached: Manifest2 | undefined;
export function manifest2(): Manifest2 {
  cached ??= JSON.parse(readFileSync(join(FIXTURES2, 'manifest.json'), 'utf8')) as Manifest2;
  return cached;
}

export function partBCases(): Fixture2Case[] {
  return manifest2().cases.filter((c) => c.part === 'B');
}

export function loadCase2(c: Fixture2Case): Record<string, Tensor> {
  return loadSafetensors(new Uint8Array(readFileSync(join(FIXTURES2, c.file))));
}

/**
 * The manifest's comparison rules (tolerances.maps / raw_weights_tensors /
 * scalars): [0,1] maps absolute, other tensors relative to max|ref|, scalars
 * relative to max(1, |ref|). Ill-conditioned paths are compared loosely
 * (10x, at least 0.05), as the manifest advises.
 */
export type Kind = 'map' | 'tensor' | 'scalar';

export function tolerance(c: Fixture2Case, path: string, quantity: string): number {
  const t = c.tolerances[path];
  if (!t) throw new Error(`${c.id}: no tolerances for '${path}'`);
  const value = t[quantity];
  if (typeof value !== 'number') throw new Error(`${c.id}: no tolerance for '${path}' ${quantity}`);
  return t.ill_conditioned ? Math.max(0.05, 10 * value) : value;
}

/** Compare `ours` with the case's tensor `${path}/${quantity}` (or `path` itself when quantity is a top-level tensor) and return the error in units of the tolerance. */
export function expectMatches(
  c: Fixture2Case,
  ref: Record<string, Tensor>,
  ours: Tensor | number,
  path: string,
  quantity: string,
  kind: Kind,
  options: { tensorName?: string } = {},
): number {
  const name = options.tensorName ?? `${path}/${quantity}`;
  const want = ref[name];
  if (!want) throw new Error(`${c.id}: no tensor '${name}'`);
  const tol = tolerance(c, path, quantity);
  const got = typeof ours === 'number' ? new Tensor(Float32Array.of(ours), want.shape) : ours;
  expect(got.size, `${c.id} ${name}: size`).toBe(want.size);
  const diff = maxAbsDiff(got.data, want.data);
  const scale = kind === 'map' ? 1 : kind === 'scalar' ? Math.max(1, maxAbs(want)) : maxAbs(want);
  const limit = tol * scale;
  expect(diff, `${c.id} ${name}: max |ours - ref| = ${diff.toExponential(3)} > ${limit.toExponential(3)} (tol ${tol}, ${kind})`).toBeLessThanOrEqual(limit);
  return limit > 0 ? diff / limit : diff === 0 ? 0 : Infinity;
}

/**
 * A fixtures2 Part A model built with tinycam's layers from
 * models/<name>.arch.json, weights loaded strictly from its safetensors, in
 * eval mode (fcn_mini and regress_cnn: their ops are all layers-API ones).
 */
export function buildFixture2Model(name: 'fcn_mini' | 'regress_cnn'): Module {
  const arch = JSON.parse(readFileSync(join(FIXTURES2, 'models', `${name}.arch.json`), 'utf8')) as { modules: ArchModules };
  const model = buildModule(arch.modules, '<root>');
  checkTree(model, arch.modules);
  model.loadStateDict(loadSafetensors(new Uint8Array(readFileSync(join(FIXTURES2, 'models', `${name}.safetensors`)))), { strict: true });
  return model.eval();
}

/** Part A cases of one model. */
export function partACases(model: string): Fixture2Case[] {
  return manifest2().cases.filter((c) => c.part === 'A' && c.model === model);
}
