/**
 * tinycam/tfjs runs where the core runs: a browser bundle with no Node
 * built-in and no TensorFlow.js in it, loading a model and explaining it in
 * a process started with --disallow-code-generation-from-strings.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { saveModel } from './helpers/tfjs.js';
import { teachableMachineModel } from './helpers/tfjs-models.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('tinycam/tfjs in a browser / edge bundle', () => {
  it('bundles without Node built-ins or TensorFlow.js and explains a model with code generation disallowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinycam-tfjs-edge-'));
    const saved = await saveModel(teachableMachineModel(32, 3));
    writeFileSync(join(dir, 'model.json'), JSON.stringify(saved.modelJson));
    writeFileSync(join(dir, 'weights.bin'), saved.weights);
    writeFileSync(
      join(dir, 'entry.ts'),
      `export { loadTfjsModel, toChannelsLast } from ${JSON.stringify(join(ROOT, 'src/tfjs/index.ts'))};
export { gradCam, rand } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
`,
    );
    const result = await build({
      entryPoints: [join(dir, 'entry.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: join(dir, 'tfjs.browser.mjs'),
      logLevel: 'silent',
      metafile: true,
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.filter((p) => /^node:|node_modules/.test(p))).toEqual([]);
    expect(readFileSync(join(dir, 'tfjs.browser.mjs'), 'utf8')).not.toMatch(/@tensorflow/);

    writeFileSync(
      join(dir, 'run.mjs'),
      `import { readFileSync } from 'node:fs';
import { loadTfjsModel, gradCam, rand } from './tfjs.browser.mjs';
let codegen = 'allowed';
try { new Function('return 1')(); } catch (e) { codegen = e.constructor.name; }
const model = loadTfjsModel(JSON.parse(readFileSync(new URL('./model.json', import.meta.url), 'utf8')), { weights: readFileSync(new URL('./weights.bin', import.meta.url)) });
const result = gradCam(model, rand([1, 32, 32, 3], { seed: 1 }), { target: 0 });
console.log(JSON.stringify({ codegen, layer: result.layers[0].name, maps: result.maps.shape, finite: result.maps.data.every(Number.isFinite) }));
`,
    );
    const run = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', join(dir, 'run.mjs')], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ codegen: 'EvalError', layer: 'out_relu', maps: [1, 32, 32], finite: true });
  });
});
