/**
 * Keras conv chains run fused (src/tfjs/keras/fusion.ts) against the same
 * model run layer by layer (a no-op hook on every layer turns the fusion
 * off, and nothing else: Keras runs recycle no buffer either way), on
 * nsfwjs's two Keras models: MobileNetV2 (224x224, 52 Conv/DepthwiseConv ->
 * BatchNormalization -> ReLU(6) chains) and InceptionV3 (299x299, 94 Conv ->
 * BatchNormalization -> Activation('relu')). One image; a forward pass under
 * noGrad and a Grad-CAM at the model's CAM layer, alternating within each
 * round; CPU ms, medians.
 *
 *   npx tsx bench/keras-fusion.ts [rounds=7] [--js]
 */
import { loadavg } from 'node:os';
import { gradCam } from '../src/cam/methods/gradCam.js';
import { noGrad } from '../src/tensor/autograd.js';
import { setBackend } from '../src/tensor/backend.js';
import { rand } from '../src/tensor/random.js';
import { loadTfjsModel, type TfjsLayersModel } from '../src/tfjs/index.js';
import { layerByLayer } from '../test/helpers/hooks.js';
import { nsfwModel, NSFW_MODELS } from '../test/helpers/nsfwjs.js';

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 7);
const backend = args.includes('--js') ? 'js' : 'wasm';
await setBackend(backend);
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

console.log(`# ${new Date().toISOString()}; ${backend} kernels; ${rounds} rounds; load ${loadavg()[0]!.toFixed(2)}`);
console.log('| model | task | layer by layer, ms | fused, ms | ratio |');
console.log('|---|---|---|---|---|');
for (const name of ['mobilenet_v2', 'inception_v3'] as const) {
  const { modelJson, shards } = nsfwModel(name);
  const model = loadTfjsModel(modelJson, { weights: (path) => shards.get(path)! }) as TfjsLayersModel;
  const size = NSFW_MODELS[name].size;
  const x = rand([1, size, size, 3], { seed: 1 });
  const tasks: Record<string, () => unknown> = {
    forward: () => noGrad(() => model.forward(x)),
    gradCam: () => gradCam(model, x),
  };
  for (const [task, run] of Object.entries(tasks)) {
    run();
    layerByLayer(model, run);
    const times = { plain: [] as number[], fused: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 ? (['fused', 'plain'] as const) : (['plain', 'fused'] as const)) {
        const c0 = cpu();
        if (kind === 'plain') layerByLayer(model, run);
        else run();
        times[kind].push(cpu() - c0);
      }
    }
    const plain = median(times.plain);
    const fused = median(times.fused);
    console.log(`| ${name} | ${task} | ${plain.toFixed(1)} | ${fused.toFixed(1)} | ${(plain / fused).toFixed(2)}x |`);
  }
}
