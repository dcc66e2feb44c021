import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { gradCam } from '../src/cam/index.js';
import { OnnxError, OnnxUnsupportedError, loadOnnx } from '../src/onnx/index.js';
import { editDistance } from '../src/layers/names.js';
import { loadOnnxFile } from '../src/node/index.js';
import { LayerNotFoundError, LimitError, ShapeError, TinycamError } from '../src/tensor/errors.js';
import { Rng } from '../src/tensor/random.js';
import { zeros } from '../src/tensor/tensor.js';
import { fixtureBytes } from './helpers/fixtures.js';
import { describeReference } from './helpers/shared.js';
import { onnxModel } from './onnx.builder.js';

/** Replace the op_type field (tag 0x22, length, name) `from` by `to` (same length) in every node. */
function renameOp(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const out = bytes.slice();
  const a = new TextEncoder().encode(from);
  const b = new TextEncoder().encode(to);
  let count = 0;
  for (let i = 0; i + 2 + a.length <= out.length; i++) {
    if (out[i] !== 0x22 || out[i + 1] !== a.length) continue;
    if (a.every((c, k) => out[i + 2 + k] === c)) {
      out.set(b, i + 2);
      count++;
    }
  }
  expect(count).toBeGreaterThan(0);
  return out;
}

describeReference('fixtures', 'ONNX import errors', () => {
  const shapes = (): Uint8Array => fixtureBytes('models/shapes_cnn.onnx');

  it('lists every unsupported op type with its nodes in one error, before building anything', () => {
    const edited = renameOp(renameOp(shapes(), 'Relu', 'Selx'), 'MaxPool', 'MaxPoox');
    let error: unknown;
    try {
      loadOnnx(edited);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OnnxUnsupportedError);
    expect(error).toBeInstanceOf(TinycamError);
    const e = error as OnnxUnsupportedError;
    expect(e.code).toBe('E_ONNX_UNSUPPORTED');
    expect(e.unsupported.map((u) => u.opType)).toEqual(['Selx', 'MaxPoox']);
    expect(e.unsupported[0]!.nodes).toEqual([
      '/features/features.2/Relu', '/features/features.6/Relu', '/features/features.10/Relu', '/features/features.13/Relu',
    ]);
    expect(e.unsupported[1]!.nodes).toHaveLength(2);
    expect(e.message).toMatch(/2 unsupported op types: Selx \(nodes '\/features\/features.2\/Relu'/);
    expect(e.message).toMatch(/Supported ops .*Conv.*Relu/);
  });

  it('refuses unsupported forms of supported ops at load time, with the other problems', () => {
    const bytes = onnxModel({
      opset: 13,
      nodes: [
        { op: 'MaxPool', inputs: ['x'], outputs: ['p', 'indices'], name: 'pool', attrs: { kernel_shape: { ints: [2, 2] } } },
        { op: 'Pad', inputs: ['p', 'pads'], outputs: ['q'], name: 'pad', attrs: { mode: { s: 'wrap' } } },
        { op: 'Unique', inputs: ['q'], outputs: ['y'], name: 'unique' },
      ],
      inputs: [{ name: 'x', dims: [1, 1, 4, 4] }],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 'pads', dims: [8], ints: [0, 0, 1, 1, 0, 0, 1, 1] }],
    });
    let error: OnnxUnsupportedError | undefined;
    try {
      loadOnnx(bytes);
    } catch (e) {
      error = e as OnnxUnsupportedError;
    }
    expect(error).toBeInstanceOf(OnnxUnsupportedError);
    expect(error!.unsupported.map((u) => [u.opType, u.detail, u.nodes])).toEqual([
      ['MaxPool', 'the Indices output', ['pool']],
      ['Pad', "mode 'wrap'", ['pad']],
      ['Unique', undefined, ['unique']],
    ]);
    expect(error!.message).toMatch(/3 unsupported op types: MaxPool with the Indices output \(node 'pool'\); Pad with mode 'wrap' \(node 'pad'\); Unique \(node 'unique'\)/);
  });

  it('names the domain of ops outside the default one', () => {
    const bytes = onnxModel({
      opset: 13,
      nodes: [{ op: 'FancyOp', domain: 'com.example', inputs: ['x'], outputs: ['y'], name: 'fancy' }],
      inputs: [{ name: 'x', dims: [1] }],
      outputs: [{ name: 'y' }],
    });
    expect(() => loadOnnx(bytes)).toThrow(/com\.example\.FancyOp \(node 'fancy'\)/);
  });

  it('gives OnnxError saying where, for a file truncated anywhere', () => {
    const bytes = shapes();
    for (const fraction of [0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999]) {
      const cut = bytes.subarray(0, Math.floor(bytes.length * fraction));
      expect(() => loadOnnx(cut), `cut at ${cut.length}`).toThrow(OnnxError);
    }
    expect(() => loadOnnx(bytes.subarray(0, bytes.length >> 1))).toThrow(/malformed protobuf in ModelProto.* at byte \d+/);
    expect(() => loadOnnx(new Uint8Array(0))).toThrow(/holds no graph/);
  });

  it('never throws anything but a TinycamError on corrupted bytes', () => {
    const bytes = shapes();
    const rng = new Rng(5);
    // Corrupt the structural prefix (node list), where a flipped byte changes meaning.
    let failed = 0;
    for (let trial = 0; trial < 300; trial++) {
      const copy = bytes.slice();
      for (let k = 0; k < 3; k++) copy[Math.floor(rng.uniform() * Math.min(copy.length, 4000))] = Math.floor(rng.uniform() * 256);
      try {
        loadOnnx(copy);
      } catch (e) {
        failed++;
        expect(e, String(e)).toBeInstanceOf(TinycamError);
      }
    }
    expect(failed).toBeGreaterThan(0);
  });

  it('refuses an input whose shape disagrees with the graph', () => {
    const model = loadOnnx(shapes());
    expect(() => model.forward(zeros([1, 3, 32, 32]))).toThrow(ShapeError);
    expect(() => model.forward(zeros([1, 3, 32, 32]))).toThrow(
      "GraphModule.run: input 'input' has shape [1, 3, 32, 32] but the graph declares [batch, 3, 64, 64]",
    );
    expect(() => model.forward(zeros([3, 64, 64]))).toThrow(ShapeError);
    // The symbolic batch size accepts any batch.
    expect([...model.forward(zeros([2, 3, 64, 64])).shape]).toEqual([2, 5]);
    expect(() => model.run({ image: zeros([1, 3, 64, 64]) })).toThrow(/'image' is not an input of the graph; its inputs are 'input'/);
  });

  it('names the closest layers for a layer that does not exist', () => {
    const model = loadOnnx(shapes());
    expect(model.getModule('features.14')).toBeUndefined();
    let error: unknown;
    try {
      model.layer('features.14');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LayerNotFoundError);
    const e = error as LayerNotFoundError;
    const names = model.layers().map((l) => l.name);
    // Closest first: non-decreasing edit distance, and the best is one edit away.
    const distances = e.candidates.map((c) => editDistance('features.14', c));
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(distances[0]).toBe(1);
    expect(new Set(e.candidates)).toEqual(new Set(names));
    expect(e.message).toMatch(/no layer named 'features.14'. Closest names: 'features.4', 'features.10', 'features.11', 'features.13'/);
    // The CAM code reports the same through getModule's undefined.
    expect(() => gradCam(model, zeros([1, 3, 64, 64]), { layer: 'features.14' })).toThrow(LayerNotFoundError);
  });

  it('asks for external data when the file keeps weights outside', () => {
    const bytes = fixtureBytes('models/tiny_resnet.unfused.onnx');
    expect(() => loadOnnx(bytes)).toThrow(/keeps its data in the external file 'tiny_resnet.safetensors'; pass loadOnnx\(bytes, \{ externalData/);
    const short = fixtureBytes('models/tiny_resnet.safetensors').subarray(0, 1000);
    expect(() => loadOnnx(bytes, { externalData: () => short })).toThrow(/asks for bytes \d+\.\.\d+ of 'tiny_resnet.safetensors', which has 1000 bytes/);
  });

  it('loadOnnxFile refuses external data outside the model folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinycam-onnx-'));
    const bytes = onnxModel({
      opset: 13,
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [2] }],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 'w', dims: [2], external: { location: '../secret.bin', offset: 0, length: 8 } }],
    });
    writeFileSync(join(dir, 'model.onnx'), bytes);
    expect(() => loadOnnxFile(join(dir, 'model.onnx'))).toThrow(/points outside the model's folder/);
    const ok = onnxModel({
      opset: 13,
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [2] }],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 'w', dims: [2], external: { location: 'w.bin', offset: 4, length: 8 } }],
    });
    writeFileSync(join(dir, 'ok.onnx'), ok);
    writeFileSync(join(dir, 'w.bin'), new Uint8Array(new Float32Array([99, 1.5, -2]).buffer));
    const model = loadOnnxFile(join(dir, 'ok.onnx'));
    expect(Array.from(model.forward(zeros([2])).data)).toEqual([1.5, -2]);
    expect(() => loadOnnxFile(join(dir, 'missing.onnx'))).toThrow();
  });

  it('says which node uses a tensor nothing produced', () => {
    const bytes = onnxModel({
      opset: 13,
      nodes: [{ op: 'Add', inputs: ['x', 'ghost'], outputs: ['y'], name: 'add' }],
      inputs: [{ name: 'x', dims: [2] }],
      outputs: [{ name: 'y' }],
    });
    expect(() => loadOnnx(bytes)).toThrow("loadOnnx: node 'add' (Add) uses tensor 'ghost', which no graph input, initializer or earlier node provides");
  });

  it('refuses a ConstantOfShape whose shape asks for an absurd allocation', () => {
    const bytes = onnxModel({
      opset: 13,
      nodes: [
        { op: 'ConstantOfShape', inputs: ['shape'], outputs: ['big'], name: 'fill' },
        { op: 'Add', inputs: ['x', 'big'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1] }],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 'shape', dims: [2], ints: [1_000_000, 1_000_000] }],
    });
    const model = loadOnnx(bytes);
    expect(() => model.forward(zeros([1]))).toThrow(LimitError);
    expect(() => model.forward(zeros([1]))).toThrow(
      "ConstantOfShape node 'fill': shape [1000000, 1000000] would hold 1,000,000,000,000 elements; the limit is 268,435,456",
    );
  });

  it('refuses opsets newer than it knows', () => {
    const bytes = onnxModel({ opset: 30, nodes: [], inputs: [{ name: 'x' }], outputs: [{ name: 'x' }] });
    expect(() => loadOnnx(bytes)).toThrow(/uses opset 30; tinycam runs opsets up to 21/);
  });
});
