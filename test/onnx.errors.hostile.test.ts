import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, symlinkSync, writeFileSync, ftruncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileError, loadOnnxFile } from '../src/node/index.js';
import { OnnxError, loadOnnx } from '../src/onnx/index.js';
import { MAX_SCOPE_DEPTH } from '../src/onnx/names.js';
import { MAX_MESSAGE_DEPTH } from '../src/onnx/wire.js';
import { LimitError, TinycamError } from '../src/tensor/errors.js';
import { setTensorLimits, tensorLimits } from '../src/tensor/limits.js';
import { Tensor, zeros } from '../src/tensor/tensor.js';
import { encodeVarint, onnxModel, type ModelSpec, type NodeSpec } from './onnx.builder.js';

/*
 * Hostile and broken ONNX input (issue 8, item 7): each class ends in a
 * typed error that says what is wrong, never a RangeError, a stack overflow,
 * a hang or gigabytes of memory.
 */

/** The error `fn` throws (fails the test when it throws nothing). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, got none');
}

const x = (dims: number[]) => ({ name: 'x', dims });

describe('graphs that break the format rules are refused at load time, as onnx.checker refuses them', () => {
  const base: ModelSpec = {
    opset: 13,
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'r' }],
    inputs: [x([2])],
    outputs: [{ name: 'y' }],
  };
  const cases: [string, ModelSpec, RegExp][] = [
    ['a graph with no outputs', { ...base, outputs: [] }, /the graph lists no outputs/],
    ['an output listed twice', { ...base, outputs: [{ name: 'y' }, { name: 'y' }] }, /lists the output 'y' twice/],
    ['an input listed twice', { ...base, inputs: [x([2]), x([2])] }, /lists the input 'x' twice/],
    ['a node with no outputs', { ...base, nodes: [...base.nodes, { op: 'Relu', inputs: ['y'], outputs: [], name: 'mute' }] }, /node 'mute' \(Relu\) writes no output/],
    ['a node whose only output is unnamed', { ...base, nodes: [...base.nodes, { op: 'Relu', inputs: ['y'], outputs: [''], name: 'mute' }] }, /node 'mute' \(Relu\) writes no output/],
    [
      'two nodes writing the same name',
      { ...base, nodes: [...base.nodes, { op: 'Sigmoid', inputs: ['x'], outputs: ['y'], name: 's' }] },
      /node 's' \(Sigmoid\) writes 'y', which is already the output of an earlier node/,
    ],
    [
      'a node writing over a graph input',
      { ...base, nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['x'], name: 'r' }], outputs: [{ name: 'x' }] },
      /node 'r' \(Relu\) writes 'x', which is already a graph input/,
    ],
    [
      'a node writing over an initializer',
      { ...base, nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['w'], name: 'r' }], outputs: [{ name: 'w' }], initializers: [{ name: 'w', dims: [2], floats: [1, 2] }] },
      /node 'r' \(Relu\) writes 'w', which is already an initializer/,
    ],
    [
      'two initializers of one name',
      { ...base, initializers: [{ name: 'w', dims: [1], floats: [1] }, { name: 'w', dims: [1], floats: [2] }] },
      /holds two initializers named 'w'/,
    ],
    [
      'a branch writing over a tensor of the enclosing graph',
      {
        ...base,
        nodes: [
          ...base.nodes,
          {
            op: 'If', inputs: ['c'], outputs: ['z'], name: 'if',
            attrs: {
              then_branch: { g: { nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'inner' }], outputs: [{ name: 'y' }] } },
              else_branch: { g: { nodes: [], outputs: [{ name: 'x' }] } },
            },
          },
        ],
        inputs: [x([2]), { name: 'c', dims: [], elemType: 9 }],
      },
      /node 'inner' \(Relu\) in the 'then_branch' subgraph of node 'if' \(If\) writes 'y', which is already a tensor of the enclosing graph/,
    ],
  ];
  for (const [what, spec, message] of cases) {
    it(`refuses ${what}`, () => {
      const e = thrown(() => loadOnnx(onnxModel(spec)));
      expect(e).toBeInstanceOf(OnnxError);
      expect((e as OnnxError).code).toBe('E_ONNX_GRAPH');
      expect(e.message).toMatch(message);
    });
  }

  it('still accepts what the rules allow: an output that is an input, initializers listed as inputs (old IR)', () => {
    const identity = loadOnnx(onnxModel({ opset: 13, nodes: [], inputs: [x([2])], outputs: [{ name: 'x' }] }));
    expect(Array.from(identity.forward(new Tensor(Float32Array.of(1, -1), [2])).data)).toEqual([1, -1]);
    const oldIr = loadOnnx(onnxModel({
      opset: 8,
      irVersion: 3,
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      inputs: [x([2]), { name: 'w', dims: [2] }],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 'w', dims: [2], floats: [10, 20] }],
    }));
    expect(Array.from(oldIr.forward(new Tensor(Float32Array.of(1, 2), [2])).data)).toEqual([11, 22]);
  });

  it("refuses external data offsets and lengths that are not plain decimal integers ('0x0', '', '1e3', '-1')", () => {
    for (const offset of ['0x0', '', '1e3', '-1', ' 4']) {
      const bytes = onnxModel({
        opset: 13,
        nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
        inputs: [x([2])],
        outputs: [{ name: 'y' }],
        initializers: [{ name: 'w', dims: [2], external: { location: 'w.bin', offset } }],
      });
      const e = thrown(() => loadOnnx(bytes, { externalData: () => new Uint8Array(64) }));
      expect(e, offset).toBeInstanceOf(OnnxError);
      expect(e.message).toContain(`external_data offset '${offset}' is not a non-negative decimal integer`);
    }
    const lengthBytes = onnxModel({
      opset: 13,
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      inputs: [x([2])],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 'w', dims: [2], external: { location: 'w.bin', offset: 0, length: '8.0' } }],
    });
    expect(() => loadOnnx(lengthBytes, { externalData: () => new Uint8Array(64) })).toThrow(/external_data length '8\.0' is not a non-negative decimal integer/);
  });
});

// ---------------------------------------------------------------- nesting

/** Protobuf bytes, built as Uint8Arrays (a 1,000-level model is too deep for array spreads). */
const enc = new TextEncoder();
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const field = (number: number, payload: Uint8Array): Uint8Array => cat(Uint8Array.from(encodeVarint((number << 3) | 2)), Uint8Array.from(encodeVarint(payload.length)), payload);
const str = (number: number, s: string): Uint8Array => field(number, enc.encode(s));
const varintField = (number: number, v: number): Uint8Array => Uint8Array.from([...encodeVarint(number << 3), ...encodeVarint(v)]);

/**
 * A graph (bytes) whose one node is an If with the next level as then_branch,
 * down to an Identity. Each level is a head, the next level, and a tail;
 * the heads only need the lengths below them, so the bytes are written in
 * one pass (wrapping level by level would copy quadratically).
 */
function nestedGraph(depth: number): Uint8Array {
  const tag = (number: number, length: number) => Uint8Array.from([...encodeVarint((number << 3) | 2), ...encodeVarint(length)]);
  const valueInfo = (name: string) => field(12, cat(str(1, name), field(2, field(1, varintField(1, 1)))));
  const core = cat(field(1, cat(str(1, 'x'), str(2, `o${depth}`), str(4, 'Identity'))), str(2, 'g'), valueInfo(`o${depth}`));
  const heads: Uint8Array[] = [];
  const tails: Uint8Array[] = [];
  let inner = core.length;
  for (let level = depth - 1; level >= 0; level--) {
    const leaf = cat(field(1, cat(str(1, 'x'), str(2, `e${level}`), str(4, 'Neg'))), str(2, 'g'), valueInfo(`e${level}`));
    const elseAttr = field(5, cat(str(1, 'else_branch'), varintField(20, 5), field(6, leaf)));
    const attrStart = cat(str(1, 'then_branch'), varintField(20, 5), tag(6, inner));
    const attrHead = cat(tag(5, attrStart.length + inner), attrStart);
    const nodeStart = cat(str(1, 'c'), str(2, `o${level}`), str(3, `if${level}`), str(4, 'If'));
    const nodeLength = nodeStart.length + attrHead.length + inner + elseAttr.length;
    const head = cat(tag(1, nodeLength), nodeStart, attrHead);
    const tail = cat(elseAttr, str(2, 'g'), valueInfo(`o${level}`));
    heads.push(head);
    tails.push(tail);
    inner += head.length + tail.length;
  }
  return cat(...heads.reverse(), core, ...tails);
}

function nestedIfModel(depth: number): Uint8Array {
  const input = (name: string, type: number) => field(11, cat(str(1, name), field(2, field(1, varintField(1, type)))));
  const graph = cat(nestedGraph(depth), input('x', 1), input('c', 9));
  return cat(varintField(1, 7), field(7, graph), field(8, cat(str(1, ''), varintField(2, 13))));
}

describe('deeply nested subgraphs', () => {
  it('runs If branches nested 20 deep', () => {
    const model = loadOnnx(nestedIfModel(20));
    const xv = new Tensor(Float32Array.of(1.5, -2), [2]);
    expect(Array.from(model.run({ x: xv, c: new Tensor(Float32Array.of(1), []) })['o0']!.data)).toEqual([1.5, -2]);
    expect(Array.from(model.run({ x: xv, c: new Tensor(Float32Array.of(0), []) })['o0']!.data)).toEqual([-1.5, 2]);
  });

  it('refuses If branches nested 1,000 and 5,000 deep with an OnnxError, not a stack overflow', () => {
    for (const depth of [1_000, 5_000]) {
      const e = thrown(() => loadOnnx(nestedIfModel(depth)));
      expect(e, `${depth}: ${e}`).toBeInstanceOf(OnnxError);
      expect(e.message).toMatch(new RegExp(`messages nest more than ${MAX_MESSAGE_DEPTH} deep`));
    }
  });
});

// ------------------------------------------------------- untyped errors

describe('ops given impossible inputs end in typed errors', () => {
  it('a Concat with no inputs', () => {
    const bytes = onnxModel({
      opset: 13,
      nodes: [{ op: 'Concat', inputs: [], outputs: ['c'], name: 'cat', attrs: { axis: { i: 0 } } }, { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }],
      inputs: [x([1])],
      outputs: [{ name: 'y' }],
    });
    const e = thrown(() => loadOnnx(bytes).forward(zeros([1])));
    expect(e).toBeInstanceOf(OnnxError);
    expect(e.message).toBe("Concat node 'cat': has no inputs; Concat takes one or more");
  });
});

// ------------------------------------------------------------- limits

describe('shapes that lie are checked against the element limit before anything is allocated', () => {
  const limit = tensorLimits().maxElements;
  const run = (spec: ModelSpec, input: Tensor) => thrown(() => loadOnnx(onnxModel(spec)).forward(input));
  const one = (op: string, attrs: NodeSpec['attrs'], extra: Partial<ModelSpec> = {}, inputs = ['x']): ModelSpec => ({
    opset: 13,
    nodes: [{ op, inputs, outputs: ['y'], name: op.toLowerCase(), attrs }],
    inputs: [x([1, 1, 8, 8])],
    outputs: [{ name: 'y' }],
    ...extra,
  });
  const w3 = { initializers: [{ name: 'w', dims: [1, 1, 3, 3], floats: new Array<number>(9).fill(1) }] };

  it('defaults: 2^28 elements, 2^36 multiply-adds per batch item', () => {
    expect(tensorLimits()).toEqual({ maxElements: 2 ** 28, maxWork: 2 ** 36 });
  });

  const cases: [string, ModelSpec, RegExp][] = [
    ['Conv padded by 65,535 on every side', one('Conv', { pads: { ints: [65535, 65535, 65535, 65535] } }, w3, ['x', 'w']), /conv2d: its result would hold 17,180,917,776 elements/],
    ['AveragePool padded by 65,535 at the end of both axes', one('AveragePool', { kernel_shape: { ints: [3, 3] }, pads: { ints: [0, 0, 65535, 65535] } }), /avgPool2d: its result would hold/],
    ['MaxPool padded by 65,535 at the end of both axes', one('MaxPool', { kernel_shape: { ints: [3, 3] }, pads: { ints: [0, 0, 65535, 65535] } }), /maxPool2d: its result would hold/],
    ['Pad by 65,535 on both spatial axes', { ...one('Pad', { pads: { ints: [0, 0, 0, 0, 0, 0, 65535, 65535] } }), opset: 10 }, /pad: its result would hold 4,295,884,849 elements/],
    ['Resize to 65,536 x 65,536', one('Resize', { coordinate_transformation_mode: { s: 'asymmetric' }, nearest_mode: { s: 'floor' } }, { initializers: [{ name: 'sizes', dims: [4], ints: [1, 1, 65536, 65536] }] }, ['x', '', '', 'sizes']), /interpolate: its result would hold 4,294,967,296 elements/],
    [
      'an Add broadcasting [65536, 1] against [1, 65536]',
      {
        opset: 13,
        nodes: [
          { op: 'ConstantOfShape', inputs: ['s1'], outputs: ['a'] }, { op: 'ConstantOfShape', inputs: ['s2'], outputs: ['b'] },
          { op: 'Add', inputs: ['a', 'b'], outputs: ['c'], name: 'add' }, { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] },
        ],
        inputs: [x([1, 1])],
        outputs: [{ name: 'y' }],
        initializers: [{ name: 's1', dims: [2], ints: [65536, 1] }, { name: 's2', dims: [2], ints: [1, 65536] }],
      },
      /add: its result would hold 4,294,967,296 elements/,
    ],
    [
      'a Gemm whose weight is a ConstantOfShape of 10^9 values',
      {
        opset: 13,
        nodes: [{ op: 'ConstantOfShape', inputs: ['s'], outputs: ['w'], name: 'fill' }, { op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'] }],
        inputs: [x([1, 100_000])],
        outputs: [{ name: 'y' }],
        initializers: [{ name: 's', dims: [2], ints: [100_000, 10_000] }],
      },
      /ConstantOfShape node 'fill': shape \[100000, 10000\] would hold 1,000,000,000 elements/,
    ],
  ];
  for (const [what, spec, message] of cases) {
    it(what, () => {
      const dims = spec.inputs[0]!.dims as number[];
      const e = run(spec, zeros(dims));
      expect(e, String(e)).toBeInstanceOf(LimitError);
      expect((e as LimitError).code).toBe('E_LIMIT');
      expect(e.message).toMatch(message);
      expect(e.message).toContain(`the limit is ${limit.toLocaleString('en-US')}`);
    });
  }

  it('a Pad that makes one axis 2^31 long and another negative is refused before any table is built (the fuzz test found it)', () => {
    const spec: ModelSpec = {
      opset: 13,
      nodes: [{ op: 'Pad', inputs: ['x', 'pads'], outputs: ['y'], name: 'pad' }],
      inputs: [x([1, 1, 4, 4])],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 'pads', dims: [8], ints: [-2, -5, 7, 1, 2147483647, 0, 1, 1] }],
    };
    const e = run(spec, zeros([1, 1, 4, 4]));
    expect(e).toBeInstanceOf(TinycamError);
    expect(e.message).toMatch(/pad: pads \(-5, 0\) on axis 1 of size 1 leave -4 elements|pad: axis 0 of its result would hold/);
    // An empty result with one huge axis: the axis is checked too.
    const empty = run({ ...spec, initializers: [{ name: 'pads', dims: [8], ints: [2 ** 31 - 2, -1, 0, 0, 0, 0, 0, 0] }] }, zeros([1, 1, 4, 4]));
    expect(empty).toBeInstanceOf(LimitError);
    // (2^31 - 2 arrives as 2^31: integers travel as float32.)
    expect(empty.message).toMatch(/pad: axis 0 of its result would hold 2,147,483,649 elements/);
  });

  it('a ConstantOfShape within the limit still runs', () => {
    const spec: ModelSpec = {
      opset: 13,
      nodes: [{ op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'], attrs: { value: { t: { dims: [1], floats: [2] } } } }, { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }],
      inputs: [x([3])],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 's', dims: [1], ints: [3] }],
    };
    expect(Array.from(loadOnnx(onnxModel(spec)).forward(new Tensor(Float32Array.of(1, 2, 3), [3])).data)).toEqual([3, 4, 5]);
  });
});

describe('a work budget bounds what one run may ask for', () => {
  let restore: ReturnType<typeof setTensorLimits> | undefined;
  afterEach(() => {
    if (restore) setTensorLimits(restore);
    restore = undefined;
  });

  /** Pad one side of the height by `pad` rows, then `convs` 3x3 convolutions 1 -> 1 channel. */
  function paddedConvs(pad: number, convs: number): Uint8Array {
    const nodes: NodeSpec[] = [{ op: 'Pad', inputs: ['x'], outputs: ['p0'], name: 'pad', attrs: { pads: { ints: [0, 0, 0, 0, 0, 0, pad, 0] } } }];
    for (let i = 0; i < convs; i++) nodes.push({ op: 'Conv', inputs: [`p${i}`, 'w'], outputs: [`p${i + 1}`], name: `conv${i}`, attrs: { pads: { ints: [1, 1, 1, 1] } } });
    return onnxModel({
      opset: 10,
      nodes,
      inputs: [{ name: 'x', dims: ['N', 1, 8, 8] }],
      outputs: [{ name: `p${convs}` }],
      initializers: [{ name: 'w', dims: [1, 1, 3, 3], floats: new Array<number>(9).fill(1 / 9) }],
    });
  }

  it('stops a run at the op that overdraws it, with a LimitError naming the run', () => {
    // Each conv: 16,391 x 8 outputs x 9 multiply-adds = 1.2 million; plus every tensor's elements.
    const model = loadOnnx(paddedConvs(16383, 8));
    restore = setTensorLimits({ maxWork: 5e6 });
    const e = thrown(() => model.forward(zeros([1, 1, 8, 8])));
    expect(e, String(e)).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(/^GraphModule\.run: the run asks for more than 5,000,000 multiply-adds per batch item \(stopped at (conv2d|a new tensor)\)/);
    // The same model within a budget that fits runs, and the budget scales with the batch.
    setTensorLimits({ maxWork: 1.5e7 });
    expect([...model.forward(zeros([1, 1, 8, 8])).shape]).toEqual([1, 1, 16391, 8]);
    // Per batch item: a batch of two asks for twice as much in all, and has twice the budget.
    expect([...model.forward(zeros([2, 1, 8, 8])).shape]).toEqual([2, 1, 16391, 8]);
  });

  it('setTensorLimits refuses values that are not positive numbers', () => {
    expect(() => setTensorLimits({ maxWork: 0 })).toThrow(LimitError);
    expect(() => setTensorLimits({ maxElements: Number.NaN })).toThrow(/maxElements must be a positive number or Infinity/);
    expect(tensorLimits()).toEqual({ maxElements: 2 ** 28, maxWork: 2 ** 36 });
  });
});

// ---------------------------------------------------------------- names

describe('purpose-built names', () => {
  it(`reads a node name of 2,000 '/' segments at once, listing its first ${MAX_SCOPE_DEPTH} scopes as module paths`, () => {
    const name = `${'/a'.repeat(2000)}/Relu`;
    const model = loadOnnx(onnxModel({ opset: 13, nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'], name }], inputs: [x([2])], outputs: [{ name: 'y' }] }));
    const modules = model.layers().filter((l) => l.kind === 'module').map((l) => l.name);
    expect(modules).toHaveLength(MAX_SCOPE_DEPTH);
    // 'a' under 'a' is the child 'a.a': the deepest listed path is 64 a's.
    expect(modules[modules.length - 1]).toBe(Array(MAX_SCOPE_DEPTH).fill('a').join('.'));
    expect(model.getModule('y')).toBeDefined();
  });
});

// ------------------------------------------------------------ loadOnnxFile

describe('loadOnnxFile reads only regular files inside the model folder, and only the bytes asked', () => {
  const addModel = (external: { location: string; offset?: number; length?: number }) =>
    onnxModel({
      opset: 13,
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      inputs: [x([3])],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 'w', dims: [3], external }],
    });
  const weights = new Uint8Array(new Float32Array([1.5, -2, 4]).buffer);

  it('refuses a symbolic link that leads out of the folder, and follows one that stays inside', () => {
    const outsideDir = mkdtempSync(join(tmpdir(), 'tinycam-secret-'));
    writeFileSync(join(outsideDir, 'secret.bin'), weights);
    const dir = mkdtempSync(join(tmpdir(), 'tinycam-onnx-'));
    symlinkSync(join(outsideDir, 'secret.bin'), join(dir, 'w.bin'));
    writeFileSync(join(dir, 'model.onnx'), addModel({ location: 'w.bin', offset: 0, length: 12 }));
    const e = thrown(() => loadOnnxFile(join(dir, 'model.onnx')));
    expect(e).toBeInstanceOf(OnnxError);
    expect(e.message).toMatch(/external data location 'w\.bin' points outside the model's folder/);

    writeFileSync(join(dir, 'real.bin'), weights);
    symlinkSync('real.bin', join(dir, 'link.bin'));
    writeFileSync(join(dir, 'ok.onnx'), addModel({ location: 'link.bin', offset: 0, length: 12 }));
    expect(Array.from(loadOnnxFile(join(dir, 'ok.onnx')).forward(zeros([3])).data)).toEqual([1.5, -2, 4]);
  });

  it('refuses devices and FIFOs before reading a byte (no hang on /dev/zero or a FIFO)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinycam-onnx-'));
    // A link to /dev/zero inside the folder leaves it; the model itself as /dev/zero is not a regular file.
    symlinkSync('/dev/zero', join(dir, 'zero.onnx'));
    const asModel = thrown(() => loadOnnxFile(join(dir, 'zero.onnx')));
    expect(asModel).toBeInstanceOf(FileError);
    expect(asModel.message).toMatch(/the model '\/dev\/zero' is not a regular file \(a device\)/);
    const fifo = join(dir, 'w.fifo');
    if (spawnSync('mkfifo', [fifo]).status === 0) {
      writeFileSync(join(dir, 'model.onnx'), addModel({ location: 'w.fifo', offset: 0, length: 12 }));
      const e = thrown(() => loadOnnxFile(join(dir, 'model.onnx')));
      expect(e).toBeInstanceOf(OnnxError);
      expect(e.message).toMatch(/external data 'w\.fifo' '.*w\.fifo' is not a regular file \(a FIFO\)/);
    }
  });

  it('reads a 12-byte tensor from a 5 GB (sparse) data file without reading the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinycam-onnx-'));
    const fd = openSync(join(dir, 'big.bin'), 'w');
    ftruncateSync(fd, 5 * 2 ** 30);
    writeSync(fd, weights, 0, 12, 3 * 2 ** 30);
    closeSync(fd);
    writeFileSync(join(dir, 'model.onnx'), addModel({ location: 'big.bin', offset: 3 * 2 ** 30, length: 12 }));
    // readFileSync of 5 GB would throw (more than a Buffer holds); a range read takes 12 bytes.
    expect(Array.from(loadOnnxFile(join(dir, 'model.onnx')).forward(zeros([3])).data)).toEqual([1.5, -2, 4]);
  });

  it('asks an externalFile reader for exactly the tensor\'s range, after checking it against the file size', () => {
    const reads: [number, number][] = [];
    const file = { size: 100, read: (offset: number, length: number) => (reads.push([offset, length]), weights.slice(0, length)) };
    loadOnnx(addModel({ location: 'w.bin', offset: 40, length: 12 }), { externalFile: () => file });
    expect(reads).toEqual([[40, 12]]);
    expect(() => loadOnnx(addModel({ location: 'w.bin', offset: 96 }), { externalFile: () => file })).toThrow(/has 4 bytes of data in 'w\.bin'; shape \[3\] of FLOAT needs 12/);
    expect(() => loadOnnx(addModel({ location: 'w.bin', offset: 90, length: 12 }), { externalFile: () => file })).toThrow(/asks for bytes 90\.\.102 of 'w\.bin', which has 100 bytes/);
    expect(reads).toHaveLength(1);
  });

  it('every error on the way is a TinycamError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinycam-onnx-'));
    writeFileSync(join(dir, 'model.onnx'), addModel({ location: 'nothere.bin', offset: 0, length: 12 }));
    expect(thrown(() => loadOnnxFile(join(dir, 'model.onnx')))).toBeInstanceOf(TinycamError);
  });
});
