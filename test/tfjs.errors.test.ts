/**
 * Bad model.json and weights: each is a TfjsError (a TinycamError) raised at
 * load, before anything is built, whose message says what is wrong.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTfjsModelFile } from '../src/node/index.js';
import { TinycamError } from '../src/tensor/errors.js';
import { loadTfjsModel, TfjsError, TfjsUnsupportedError } from '../src/tfjs/index.js';
import { quantize, saveModel, type SavedModel } from './helpers/tfjs.js';
import { functionalModel } from './helpers/tfjs-models.js';

let saved: SavedModel;
const copy = (): SavedModel['modelJson'] => structuredClone(saved.modelJson);
type Layers = { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[] }[];
const layersOf = (json: SavedModel['modelJson']) => (json.modelTopology as { config: { layers: Layers } }).config.layers;

function thrown(fn: () => unknown): TfjsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TfjsError);
    expect(e).toBeInstanceOf(TinycamError);
    return e as TfjsError;
  }
  throw new Error('expected a TfjsError');
}

beforeAll(async () => {
  saved = await saveModel(functionalModel());
});

describe('unsupported layer classes', () => {
  it('lists every unsupported class and form in the model at once, with the layers that use them', () => {
    const json = copy();
    const layers = layersOf(json);
    layers.find((l) => l.name === 'gate')!.class_name = 'Lambda';
    layers.find((l) => l.name === 'lr')!.class_name = 'MyCustomLayer';
    layers.find((l) => l.name === 'f1')!.config.activation = 'gelu';
    layers.find((l) => l.name === 'c1')!.config.padding = 'causal';
    const e = thrown(() => loadTfjsModel(json, { weights: saved.weights }));
    expect(e).toBeInstanceOf(TfjsUnsupportedError);
    expect(e.code).toBe('E_TFJS_UNSUPPORTED');
    const list = (e as TfjsUnsupportedError).unsupported;
    expect(list.map((u) => u.name).sort()).toEqual(['Conv2D', 'Dense', 'Lambda', 'MyCustomLayer']);
    expect(list.find((u) => u.name === 'Lambda')!.users).toEqual(['gate']);
    expect(e.message).toMatch(/4 unsupported layer classes/);
    expect(e.message).toMatch(/Lambda \('gate'\)/);
    expect(e.message).toMatch(/Dense with activation 'gelu'/);
    expect(e.message).toMatch(/Conv2D with padding "causal"/);
    expect(e.message).toMatch(/Supported: .*SeparableConv2D/);
  });
});

describe('weights', () => {
  it('truncated weight data', () => {
    const e = thrown(() => loadTfjsModel(saved.modelJson, { weights: saved.weights.subarray(0, saved.weights.length - 10) }));
    expect(e.code).toBe('E_TFJS_WEIGHTS');
    const specs = saved.modelJson.weightsManifest[0]!.weights;
    const last = specs[specs.length - 1]!;
    expect(e.message).toContain(`too short: weight '${last.name}' (${last.shape.join('x')} float32`);
    expect(e.message).toContain(`which holds ${saved.weights.length - 10}. The manifest needs ${saved.weights.length} bytes in all`);
    expect(e.message).toMatch(/truncated or do not belong to this model.json/);
  });

  it('more bytes than the manifest describes', () => {
    const e = thrown(() => loadTfjsModel(saved.modelJson, { weights: new Uint8Array([...saved.weights, 0, 0, 0, 0]) }));
    expect(e.message).toMatch(new RegExp(`holds ${saved.weights.length + 4} bytes but the manifest describes ${saved.weights.length}`));
  });

  it('a shard missing', () => {
    const { modelJson, shards } = quantize(saved, 'uint8', 1500);
    const missing = [...shards.keys()][1]!;
    const e = thrown(() => loadTfjsModel(modelJson, { weights: (path) => (path === missing ? undefined! : shards.get(path)!) }));
    expect(e.code).toBe('E_TFJS_WEIGHTS');
    expect(e.message).toContain(`weight shard '${missing}' is missing`);
    // A resolver that throws its own error is reported as the shard's.
    const e2 = thrown(() => loadTfjsModel(modelJson, { weights: () => { throw new Error('404 Not Found'); } }));
    expect(e2.message).toMatch(/cannot read weight shard 'group1-shard1of\d\.bin': 404 Not Found/);
  });

  it('a shard missing from the folder, through loadTfjsModelFile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinycam-tfjs-'));
    const { modelJson, shards } = quantize(saved, 'uint16', 3000);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
    const [first, second] = [...shards.keys()];
    writeFileSync(join(dir, first!), shards.get(first!)!);
    const e = thrown(() => loadTfjsModelFile(join(dir, 'model.json')));
    expect(e.message).toContain(`weight shard '${second}' is missing or unreadable`);
    // With every shard there it loads.
    for (const [path, bytes] of shards) writeFileSync(join(dir, path), bytes);
    expect(loadTfjsModelFile(join(dir, 'model.json')).layers().length).toBeGreaterThan(10);
  });

  it('a shard path that leaves the model folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinycam-tfjs-'));
    const json = copy();
    json.weightsManifest[0]!.paths = ['../elsewhere/weights.bin'];
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    expect(thrown(() => loadTfjsModelFile(join(dir, 'model.json'))).message).toMatch(/points outside the model's folder/);
  });

  it("a shape in the manifest that disagrees with the topology", () => {
    const json = copy();
    // Same number of values (216), another shape: the bytes fit, the topology does not.
    json.weightsManifest[0]!.weights.find((w) => w.name === 'c1/kernel')!.shape = [3, 3, 4, 6];
    const e = thrown(() => loadTfjsModel(json, { weights: saved.weights }));
    expect(e.code).toBe('E_TFJS_WEIGHTS');
    expect(e.message).toBe(
      "loadTfjsModel: weight 'c1/kernel' has shape [3, 3, 4, 6] in the manifest, but layer 'c1' (Conv2D) as the topology describes it needs [3, 3, 3, 8]",
    );
  });

  it('a weight the manifest does not list', () => {
    const json = copy();
    const weights = json.weightsManifest[0]!.weights;
    const at = weights.findIndex((w) => w.name === 'b2/bias');
    const offset = weights.slice(0, at).reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
    weights.splice(at, 1);
    const bytes = new Uint8Array([...saved.weights.subarray(0, offset), ...saved.weights.subarray(offset + 4 * 6)]);
    expect(thrown(() => loadTfjsModel(json, { weights: bytes })).message).toMatch(/layer 'b2' \(Conv2D\) needs weight 'b2\/bias' of shape \[6\]; the manifest has none \(it has 'b2\/kernel'\)/);
  });

  it('no weights given for a model that has some', () => {
    expect(thrown(() => loadTfjsModel(saved.modelJson)).message).toMatch(/pass them as options.weights/);
  });

  it('an unknown quantization dtype', () => {
    const json = copy();
    (json.weightsManifest[0]!.weights[0] as { quantization?: unknown }).quantization = { dtype: 'int4', min: 0, scale: 1 };
    expect(thrown(() => loadTfjsModel(json, { weights: saved.weights })).message).toMatch(/quantization dtype 'int4'; accepted: 'uint8', 'uint16', 'float16'/);
  });
});

describe('malformed model.json', () => {
  it.each([
    ['not JSON', () => '{"modelTopology": ', /not JSON/],
    ['no modelTopology', () => ({ weightsManifest: [] }), /modelTopology must be an object; got nothing/],
    ['layers not a list', () => ({ modelTopology: { class_name: 'Model', config: { layers: 3 } } }), /modelTopology.config.layers must be an array; got number 3/],
    ['not a model class', () => ({ modelTopology: { class_name: 'Conv2D', config: {} } }), /class_name is 'Conv2D'; a layers model is one of Model, Functional, Sequential/],
    ['a format tinycam does not know', () => ({ format: 'saved-model', modelTopology: {} }), /format 'saved-model' is not supported/],
  ])('%s', (_, make, message) => {
    expect(thrown(() => loadTfjsModel(make())).message).toMatch(message);
  });

  it('an inbound node that names a layer the model does not define', () => {
    const json = copy();
    layersOf(json).find((l) => l.name === 'cat')!.inbound_nodes = [[['m1', 0, 0, {}], ['nowhere', 0, 0, {}]]];
    expect(thrown(() => loadTfjsModel(json, { weights: saved.weights })).message).toMatch(/refers to layer 'nowhere', which modelTopology does not define/);
  });

  it('a bad field inside a layer config', () => {
    const json = copy();
    layersOf(json).find((l) => l.name === 'c1')!.config.kernel_size = 'three';
    expect(thrown(() => loadTfjsModel(json, { weights: saved.weights })).message).toMatch(/layers\[\d+\]\.config\.kernel_size must be an integer or a list of 2 integers; got the string "three"/);
  });
});
