import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { main } from '../src/cli/command.js';
import { Terminal } from '../src/cli/terminal.js';
import { encodePng, type RgbaImage } from '../src/image/index.js';
import { onnxModel, type NodeSpec, type TensorSpec } from './onnx.builder.js';

/*
 * The command as users run it, for the end-to-end tests: bundled once per
 * test file as the package build bundles it, and run with node.
 */

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundle src/cli/main.ts to one ESM file inside the project (so it resolves node_modules). */
export async function buildCli(name: string): Promise<string> {
  const dir = join(ROOT, 'node_modules', '.cache');
  mkdirSync(dir, { recursive: true });
  // A folder per build: the command and, beside it as in dist/, the worker of `explain --jobs`.
  const outdir = join(dir, `tinycam-cli-${name}-${process.pid}`);
  await build({
    entryPoints: { cli: join(ROOT, 'src/cli/main.ts'), 'cli-worker': join(ROOT, 'src/cli/jobs-worker.ts') },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    outdir,
    outExtension: { '.js': '.js' },
    packages: 'external',
    logLevel: 'silent',
  });
  return join(outdir, 'cli.js');
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built command in `cwd`; stdout and stderr apart. `nodeFlags` go to node before the script (--no-expose-wasm). */
export function runCli(cli: string, cwd: string, args: string[], env: Record<string, string> = {}, nodeFlags: string[] = []): Run {
  const r = spawnSync(process.execPath, [...nodeFlags, cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The commands that run the model, and so take --backend. */
const MODEL_COMMANDS = ['explain', 'layers', 'compare'];

/**
 * Run the command in this process (the same code the bin runs, without
 * starting node): for the many checks of one behaviour, beside one run of
 * the built command. Paths are taken as given (pass absolute ones).
 *
 * On the JS kernels: `--backend js` goes before the command's arguments (a
 * --backend among them wins), so the run ends at once and leaves this
 * process on the kernels the tests compute the library's references on.
 * The command's default, WebAssembly, is tested through the built command.
 */
export function runInProcess(args: string[]): Run {
  let stdout = '';
  let stderr = '';
  const terminal = new Terminal({ write: (t: string) => (stdout += t) }, { write: (t: string) => (stderr += t) }, false);
  const [command, ...rest] = args;
  const status = main(command !== undefined && MODEL_COMMANDS.includes(command) ? [command, '--backend', 'js', ...rest] : args, terminal);
  if (typeof status !== 'number') throw new Error('runInProcess: the command returned a promise (--backend wasm, or explain --jobs); run the built command');
  return { status, stdout, stderr };
}

/** Run the built command with stdout and stderr into one file, as a terminal shows them; returns that text. */
export function runCliMerged(cli: string, cwd: string, args: string[], env: Record<string, string> = {}): { status: number | null; text: string } {
  const path = join(cwd, `merged-${Date.now()}.txt`);
  const fd = openSync(path, 'w');
  try {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', fd, fd], env: { ...process.env, ...env }, timeout: 120_000 });
    return { status: r.status, text: readFileSync(path, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

/**
 * The lines a terminal would show for `text`: '\r' returns to the start of
 * the line, ESC [ K clears to its end, '\n' starts a new line, and other
 * characters overwrite the cell under the cursor.
 */
export function screen(text: string): string[] {
  const lines: string[][] = [[]];
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const line = lines[lines.length - 1]!;
    if (c === '\r') col = 0;
    else if (c === '\n') {
      lines.push([]);
      col = 0;
    } else if (c === '\x1b' && text.startsWith('\x1b[K', i)) {
      line.length = col;
      i += 2;
    } else {
      line[col++] = c;
    }
  }
  return lines.map((l) => l.join('')).filter((l, i, all) => l !== '' || i < all.length - 1);
}

/** A deterministic pseudo-random sequence in [-1, 1). */
function wave(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 0.9);
}

export interface TinyModelOptions {
  /** Names of the nodes (default PyTorch-exporter style). */
  names?: Partial<Record<'conv' | 'relu' | 'pool' | 'flatten' | 'fc' | 'softmax', string>>;
  /** End in a Softmax (default true). */
  softmax?: boolean;
  /** The classifier's weights [3, 4] (row per class) and bias [3]. */
  fc?: { weight: number[]; bias: number[] };
  /** The input's declared [height, width] (default [32, 32]); null: symbolic, any size. */
  inputSize?: [number, number] | null;
}

/**
 * A small CNN as an ONNX file: Conv 3->4 (3x3, pad 1) -> Relu -> global
 * average pool -> Flatten -> Gemm 4->3 -> Softmax, input [N, 3, 32, 32]
 * (a symbolic batch). The Relu's output is the tensor 'input.4' (a dotted
 * tensor name, as older torch exports write); the scopes are 'features',
 * 'features.0', 'features.1', 'classifier', 'classifier.fc'.
 */
export function tinyModel(options: TinyModelOptions = {}): Uint8Array {
  const n = { conv: '/features/features.0/Conv', relu: '/features/features.1/Relu', pool: '/pool/GlobalAveragePool', flatten: '/Flatten', fc: '/classifier/fc/Gemm', softmax: '/Softmax', ...options.names };
  const fc = options.fc ?? { weight: [1.5, -0.5, 0.8, 0.2, -0.7, 1.2, 0.3, -0.4, 0.4, 0.1, -1.1, 0.9], bias: [0.1, -0.2, 0.05] };
  const softmax = options.softmax ?? true;
  const nodes: NodeSpec[] = [
    { op: 'Conv', inputs: ['image', 'w1', 'b1'], outputs: ['/features/features.0/Conv_output_0'], name: n.conv, attrs: { pads: { ints: [1, 1, 1, 1] }, kernel_shape: { ints: [3, 3] } } },
    { op: 'Relu', inputs: ['/features/features.0/Conv_output_0'], outputs: ['input.4'], name: n.relu },
    { op: 'GlobalAveragePool', inputs: ['input.4'], outputs: ['pooled'], name: n.pool },
    { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'], name: n.flatten },
    { op: 'Gemm', inputs: ['flat', 'wfc', 'bfc'], outputs: ['logits'], name: n.fc, attrs: { transB: { i: 1 } } },
  ];
  if (softmax) nodes.push({ op: 'Softmax', inputs: ['logits'], outputs: ['prob'], name: n.softmax, attrs: { axis: { i: 1 } } });
  const initializers: TensorSpec[] = [
    { name: 'w1', dims: [4, 3, 3, 3], floats: wave(108, 1) },
    { name: 'b1', dims: [4], floats: [0.05, 0.1, -0.02, 0.2] },
    { name: 'wfc', dims: [3, 4], floats: fc.weight },
    { name: 'bfc', dims: [3], floats: fc.bias },
  ];
  return onnxModel({
    opset: 13,
    nodes,
    inputs: [{ name: 'image', dims: ['N', 3, ...(options.inputSize === null ? ['H', 'W'] : (options.inputSize ?? [32, 32]))] }],
    outputs: [{ name: softmax ? 'prob' : 'logits' }],
    initializers,
  });
}

/** A test picture: a gradient background with a bright square, `seed` moving it. */
export function testImage(width: number, height: number, seed = 0): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  const x0 = Math.floor(width * (0.2 + 0.1 * (seed % 4)));
  const y0 = Math.floor(height * (0.3 + 0.05 * (seed % 3)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = x >= x0 && x < x0 + width / 3 && y >= y0 && y < y0 + height / 3;
      const i = (y * width + x) * 4;
      data[i] = inside ? 240 : (x * 255) / width;
      data[i + 1] = inside ? 220 : (y * 255) / height;
      data[i + 2] = inside ? 40 : 128;
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

export const testPng = (width: number, height: number, seed = 0): Uint8Array => encodePng(testImage(width, height, seed));
