/**
 * Trains ShapesNet on generated shape scenes with tinycam's own autodiff and
 * optimisers, then scores it on the 1,000 test scenes and writes the weights.
 *
 *   npm run train                      # the committed weights' recipe (RECIPE, two stages)
 *   npm run train -- --epochs 2 --out /tmp/try.safetensors    # one stage of your own
 *
 * Every epoch draws fresh scenes (seeds never repeat, and never reach the
 * test range), so the model cannot memorise its training set. Everything is
 * seeded: the same command gives the same weights on the same engine.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backward } from '../../src/tensor/autograd.js';
import { crossEntropy } from '../../src/tensor/ops/softmax.js';
import { argmax } from '../../src/tensor/ops/reduce.js';
import { loadSafetensors, saveSafetensors } from '../../src/tensor/safetensors.js';
import { Adam, SGD } from '../../src/optim/index.js';
import { CLASSES, TEST_SEED_BASE, TRAIN_SEED_BASE, generateScenes } from './generate.js';
import { scenesToTensor } from './data.js';
import { evaluate } from './evaluate.js';
import { ShapesNet, WIDTHS } from './model.js';

export const DEFAULT_WEIGHTS = resolve(dirname(fileURLToPath(import.meta.url)), 'shapes-cnn.safetensors');

export interface TrainConfig {
  epochs: number;
  /** Fresh scenes per epoch. */
  scenesPerEpoch: number;
  batchSize: number;
  optimizer: 'adam' | 'sgd';
  /** Peak learning rate; it follows a cosine from here to 0 over all steps, after a short warm-up. */
  lr: number;
  momentum: number;
  weightDecay: number;
  seed: number;
  /** Test scenes scored at the end (and a fifth of them after each epoch). */
  testScenes: number;
  out: string;
  /** If set, the weights are also written here after every epoch (to keep a long run's progress). */
  checkpoint?: string;
  /** Start from these weights instead of a fresh init (a second stage of training). */
  init?: string;
  /** Training scenes start at TRAIN_SEED_BASE + firstSeed (a second stage sees new scenes). */
  firstSeed: number;
}

export const DEFAULT_CONFIG: TrainConfig = {
  epochs: 22,
  scenesPerEpoch: 3000,
  batchSize: 16,
  optimizer: 'adam',
  lr: 3e-3,
  momentum: 0.9,
  weightDecay: 1e-4,
  seed: 1,
  testScenes: 1000,
  out: DEFAULT_WEIGHTS,
  firstSeed: 0,
};

/**
 * The committed weights' recipe: 22 epochs from PyTorch's default init at a
 * peak lr of 3e-3 (66,000 scenes), then 8 more epochs on 24,000 new scenes at
 * a peak of 1e-3 (a second cosine cycle; Adam's moments start afresh).
 */
export const RECIPE: readonly TrainConfig[] = [
  DEFAULT_CONFIG,
  { ...DEFAULT_CONFIG, epochs: 8, lr: 1e-3, firstSeed: 66_000 },
];

function parseArgs(argv: readonly string[]): TrainConfig {
  const config: TrainConfig = { ...DEFAULT_CONFIG };
  const numeric: Record<string, keyof TrainConfig> = {
    '--epochs': 'epochs',
    '--scenes': 'scenesPerEpoch',
    '--batch': 'batchSize',
    '--lr': 'lr',
    '--momentum': 'momentum',
    '--weight-decay': 'weightDecay',
    '--seed': 'seed',
    '--test': 'testScenes',
    '--first-seed': 'firstSeed',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`train: ${flag} needs a value`);
    if (flag in numeric) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`train: ${flag} needs a number; got '${value}'`);
      (config as unknown as Record<string, number>)[numeric[flag]!] = n;
    } else if (flag === '--optimizer' && (value === 'adam' || value === 'sgd')) {
      config.optimizer = value;
    } else if (flag === '--out') {
      config.out = resolve(value);
    } else if (flag === '--checkpoint') {
      config.checkpoint = resolve(value);
    } else if (flag === '--init') {
      config.init = resolve(value);
    } else {
      throw new Error(`train: unknown option ${flag} ${value}; accepted: ${[...Object.keys(numeric), '--optimizer adam|sgd', '--out FILE', '--checkpoint FILE', '--init FILE'].join(', ')}`);
    }
  }
  return config;
}

function learningRate(config: TrainConfig, step: number, totalSteps: number): number {
  const warmup = Math.min(100, Math.floor(totalSteps / 10));
  if (step < warmup) return (config.lr * (step + 1)) / warmup;
  const t = (step - warmup) / Math.max(totalSteps - warmup, 1);
  return 0.5 * config.lr * (1 + Math.cos(Math.PI * t));
}

/** One stage: a fresh optimiser and one cosine cycle over `config.epochs` epochs of new scenes. */
export function trainStage(model: ShapesNet, config: TrainConfig): void {
  const parameters = model.parameters();
  const optimizer =
    config.optimizer === 'adam'
      ? new Adam(parameters, { lr: config.lr, weightDecay: config.weightDecay })
      : new SGD(parameters, { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay });
  const stepsPerEpoch = Math.ceil(config.scenesPerEpoch / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const parameterCount = parameters.reduce((n, p) => n + p.size, 0);
  console.log(
    `ShapesNet (widths ${WIDTHS.join('/')}, ${parameterCount} parameters); ${config.optimizer} lr ${config.lr}, ` +
      `weight decay ${config.weightDecay}, ${config.epochs} epochs x ${config.scenesPerEpoch} fresh scenes, batch ${config.batchSize}`,
  );
  const quickTest = generateScenes(TEST_SEED_BASE, Math.min(200, config.testScenes));
  let step = 0;
  model.train();
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const epochStart = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    // Seeds of this epoch follow those of the last: no scene is seen twice.
    const firstSeed = TRAIN_SEED_BASE + config.firstSeed + epoch * config.scenesPerEpoch;
    for (let b = 0; b < stepsPerEpoch; b++) {
      const count = Math.min(config.batchSize, config.scenesPerEpoch - b * config.batchSize);
      const scenes = generateScenes(firstSeed + b * config.batchSize, count);
      const input = scenesToTensor(scenes);
      const labels = scenes.map((s) => s.label);
      optimizer.lr = learningRate(config, step, totalSteps);
      optimizer.zeroGrad();
      const logits = model.forward(input);
      const loss = crossEntropy(logits, labels);
      backward(loss);
      optimizer.step();
      step++;
      lossSum += loss.item() * count;
      const predicted = argmax(logits, 1).data;
      for (let i = 0; i < count; i++) if (predicted[i] === labels[i]) correct++;
      seen += count;
    }
    const quick = evaluate(model, quickTest);
    const seconds = (performance.now() - epochStart) / 1000;
    console.log(
      `epoch ${String(epoch + 1).padStart(2)}/${config.epochs}  loss ${(lossSum / seen).toFixed(4)}  ` +
        `train acc ${(correct / seen).toFixed(3)}  test acc ${quick.accuracy.toFixed(3)} pointing ${quick.pointing.toFixed(3)} ` +
        `(${quickTest.length} scenes)  ${seconds.toFixed(1)} s`,
    );
    if (config.checkpoint) writeFileSync(config.checkpoint, saveSafetensors(model.stateDict(), { epoch: String(epoch + 1) }));
  }
}

/** Runs the stages on one model, scores it on the test scenes and writes the weights with the recipe and scores. */
export function train(stages: readonly TrainConfig[]): void {
  const first = stages[0]!;
  const last = stages[stages.length - 1]!;
  const model = new ShapesNet(first.seed);
  if (first.init) model.loadStateDict(loadSafetensors(readFileSync(first.init)));
  const started = performance.now();
  stages.forEach((stage, i) => {
    if (stages.length > 1) console.log(`stage ${i + 1}/${stages.length}`);
    trainStage(model, stage);
  });
  const trainSeconds = (performance.now() - started) / 1000;

  const test = evaluate(model, generateScenes(TEST_SEED_BASE, last.testScenes));
  console.log(
    `test (${last.testScenes} scenes from seed ${TEST_SEED_BASE}): accuracy ${test.accuracy.toFixed(4)}, ` +
      `Grad-CAM pointing game ${test.pointing.toFixed(4)}; per class ${CLASSES.map((c, i) => `${c} ${test.perClass[i]!.toFixed(3)}`).join(', ')}`,
  );
  console.log(`training took ${trainSeconds.toFixed(0)} s`);

  const recipe = stages.map((c) => ({ ...c, out: undefined, checkpoint: undefined, init: c.init ? basename(c.init) : undefined }));
  const metadata: Record<string, string> = {
    model: 'ShapesNet',
    widths: WIDTHS.join(','),
    classes: CLASSES.join(','),
    normalisation: 'imagenet',
    recipe: JSON.stringify(recipe),
    test_accuracy: test.accuracy.toFixed(4),
    test_pointing_game: test.pointing.toFixed(4),
    train_seconds: trainSeconds.toFixed(0),
  };
  mkdirSync(dirname(last.out), { recursive: true });
  const bytes = saveSafetensors(model.stateDict(), metadata);
  writeFileSync(last.out, bytes);
  console.log(`wrote ${last.out} (${(bytes.length / 1024).toFixed(1)} KiB)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  train(args.length === 0 ? RECIPE : [parseArgs(args)]);
}
