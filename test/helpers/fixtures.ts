import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadSafetensors } from '../../src/tensor/safetensors.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { SHARED, referenceData, referencePath } from './shared.js';

export { SHARED };

/**
 * The PyTorch fixtures: ../shared/fixtures when it exists (CI: 5 models, 52
 * cases), else the compact copy test/fixtures/fixtures (a fresh clone: a
 * subset of the same files, its manifest cut to match). Suites over them are
 * declared with describeReference('fixtures', ...) (./shared.ts).
 */
export const FIXTURES = referencePath('fixtures');

/** Whether FIXTURES is the full set (../shared/fixtures) rather than the compact copy. */
export const FULL_FIXTURES = referenceData('fixtures') === 'full';

export interface CaseTolerance {
  final_map: number;
  raw_relative: number;
  ill_conditioned: boolean;
  weights_abs?: number;
  scores_relative?: number;
}

export interface FixtureCase {
  id: string;
  file: string;
  model: string;
  layer: { module: string; onnx_tensor_fused: string; onnx_tensor_unfused: string; shape: number[]; is_cam_layer: boolean };
  target_class: number;
  tensors: Record<string, number[]>;
  checks: Record<string, unknown> & { note?: string };
  tolerances: Record<string, CaseTolerance>;
}

export interface FixtureModel {
  name: string;
  safetensors: string;
  onnx_fused: string;
  onnx_unfused_external: string;
  input_size: number[];
  num_classes: number;
  arch: string;
  is_gap_fc: boolean;
  cam_layer: string;
  fc_weight: string;
  layers: Record<string, { module: string; onnx_tensor_fused: string; onnx_tensor_unfused: string }>;
}

export interface Manifest {
  conventions: Record<string, unknown>;
  tolerances: Record<string, string>;
  models: FixtureModel[];
  cases: FixtureCase[];
}

let manifestCache: Manifest | undefined;
export function manifest(): Manifest {
  manifestCache ??= JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as Manifest;
  return manifestCache;
}

/**
 * Whether a file the manifest names is present: the compact copy leaves some
 * out (manifest.compact.files_left_out, e.g. MobileNetV2's fused ONNX graph).
 */
export function fixtureExists(relative: string): boolean {
  return existsSync(join(FIXTURES, relative));
}

export function fixtureBytes(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, relative)));
}

export function casesOf(model: string): FixtureCase[] {
  return manifest().cases.filter((c) => c.model === model);
}

export function modelInfo(name: string): FixtureModel {
  const m = manifest().models.find((x) => x.name === name);
  if (!m) throw new Error(`no fixture model ${name}`);
  return m;
}

/** The tensors of one case file. */
export function loadCase(c: FixtureCase): Record<string, Tensor> {
  return loadSafetensors(fixtureBytes(c.file));
}

/** A model's state dict from its safetensors file. */
export function loadWeights(model: string): Record<string, Tensor> {
  return loadSafetensors(fixtureBytes(modelInfo(model).safetensors));
}

/** The readable architecture description (models/<name>.arch.json). */
export function loadArch(model: string): {
  modules: Record<string, Record<string, unknown> & { type: string; children?: string[] }>;
  [k: string]: unknown;
} {
  return JSON.parse(readFileSync(join(FIXTURES, modelInfo(model).arch), 'utf8'));
}

/** Whether the fixtures are here, full or compact (the compact copy is committed, so: always, in a checkout). */
export function sharedExists(): boolean {
  return existsSync(join(FIXTURES, 'manifest.json'));
}

export function maxAbs(t: Tensor | Float32Array): number {
  const d = t instanceof Float32Array ? t : t.data;
  let m = 0;
  for (let i = 0; i < d.length; i++) m = Math.max(m, Math.abs(d[i]!));
  return m;
}

export function maxAbsDiff(a: Tensor | Float32Array, b: Tensor | Float32Array): number {
  const x = a instanceof Float32Array ? a : a.data;
  const y = b instanceof Float32Array ? b : b.data;
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/**
 * Assert |ours - ref| <= relative * max|ref| + absolute elementwise, with a
 * message that names what was compared and by how much it missed.
 */
export function expectClose(
  ours: Tensor,
  ref: Tensor,
  what: string,
  tol: { relative?: number; absolute?: number },
): number {
  expect([...ours.shape], `${what}: shape`).toEqual([...ref.shape]);
  const limit = (tol.relative ?? 0) * maxAbs(ref) + (tol.absolute ?? 0);
  const diff = maxAbsDiff(ours, ref);
  expect(diff, `${what}: max |ours - ref| = ${diff.toExponential(3)} > ${limit.toExponential(3)}`).toBeLessThanOrEqual(limit);
  return diff;
}
