/**
 * The three models the npm package nsfwjs 4.4 ships (a devDependency): each
 * model.json and weight shard is a small UMD bundle whose export is the JSON
 * object or the shard as base64.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// The bundles are not in the package's exports: read them from its folder (dist/cjs/index.js is two levels down).
const ROOT = join(dirname(require.resolve('nsfwjs')), '..', '..');

export const NSFW_MODELS = {
  mobilenet_v2: { shards: 1, size: 224 },
  mobilenet_v2_mid: { shards: 2, size: 224 },
  inception_v3: { shards: 6, size: 299 },
} as const;

export type NsfwModel = keyof typeof NSFW_MODELS;

/** nsfwjs's class names, in output order. */
export const NSFW_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

function load(path: string): unknown {
  const m = require(join(ROOT, 'dist', 'models', `${path}.min.js`)) as { default?: unknown };
  return m.default ?? m;
}

/** model.json and its shards by path (as the manifest names them). */
export function nsfwModel(name: NsfwModel): { modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[]; format?: string }; shards: Map<string, Uint8Array> } {
  const modelJson = load(`${name}/model`) as ReturnType<typeof nsfwModel>['modelJson'];
  const shards = new Map<string, Uint8Array>();
  for (const group of modelJson.weightsManifest) {
    for (const path of group.paths) shards.set(path, new Uint8Array(Buffer.from(load(`${name}/${path}`) as string, 'base64')));
  }
  return { modelJson, shards };
}

/** All shards concatenated in manifest order (what tf.io.fromMemory takes). */
export function concatenated(shards: Map<string, Uint8Array>): Uint8Array {
  const out = new Uint8Array([...shards.values()].reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of shards.values()) {
    out.set(s, at);
    at += s.length;
  }
  return out;
}
