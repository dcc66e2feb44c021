import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { decodeModel, decodeTensor, type NodeProto } from '../../src/onnx/proto.js';
import { DataType, tensorFromProto } from '../../src/onnx/tensorData.js';
import { ProtoReader } from '../../src/onnx/wire.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { referencePath } from './shared.js';

/**
 * Reading ONNX's converted PyTorch-module tests (../shared/onnx-pytorch-converted, or
 * its compact copy in test/fixtures without the two largest folders):
 * each folder holds model.onnx and test_data_set_0/{input,output}_N.pb, PyTorch's
 * own inputs and outputs. The .pb files are decoded with the library's TensorProto
 * decoder, which test/onnx.wire.test.ts checks byte by byte.
 */
export const CONVERTED = referencePath('onnx-pytorch-converted');

/** The tensor of one TensorProto file (.pb), and its ONNX element type. */
function readTensorPbTyped(path: string): { tensor: Tensor; dataType: number } {
  const proto = decodeTensor(new ProtoReader(new Uint8Array(readFileSync(path)), 'TensorProto'));
  return tensorFromProto(proto);
}

/** The tensor of one TensorProto file (.pb), whatever its element type. */
export function readTensorPb(path: string): Tensor {
  return readTensorPbTyped(path).tensor;
}

/** A float32 TensorProto file (.pb) as a Tensor; fails the test on any other element type. */
export function readFloatTensorPb(path: string): Tensor {
  const { tensor, dataType } = readTensorPbTyped(path);
  expect(dataType, `${path}: only float32 tensors are read`).toBe(DataType.FLOAT);
  return tensor;
}

/** The first data set of a converted test: its `inputs` float inputs and its first output. */
export function converted(name: string, inputs = 1): { inputs: Tensor[]; output: Tensor } {
  const dir = join(CONVERTED, name, 'test_data_set_0');
  const read = (file: string): Tensor => readFloatTensorPb(join(dir, file));
  return { inputs: Array.from({ length: inputs }, (_, i) => read(`input_${i}.pb`)), output: read('output_0.pb') };
}

/** The graph's nodes of a converted test's model.onnx (most are a single node). */
export function convertedNodes(name: string): NodeProto[] {
  const model = decodeModel(new Uint8Array(readFileSync(join(CONVERTED, name, 'model.onnx'))));
  return model.graph?.nodes ?? [];
}

/** The converted tests' tolerance (as onnx's backend tests): |got - want| <= 1e-7 + 1e-3 |want| per element. */
export function expectMatchesTorch(got: Tensor, want: Tensor): void {
  expect([...got.shape]).toEqual([...want.shape]);
  for (let i = 0; i < want.size; i++) {
    const w = want.data[i]!;
    expect(Math.abs(got.data[i]! - w), `element ${i}: ${got.data[i]} vs ${w}`).toBeLessThanOrEqual(1e-7 + 1e-3 * Math.abs(w));
  }
}
