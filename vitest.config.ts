import { configDefaults, defineConfig } from 'vitest/config';
import HeavyFirstSequencer from './test/helpers/heavy-first-sequencer.js';

/**
 * Two projects. `js`: every test on the pure-TS kernels (the default
 * backend). `wasm`: the suites that hold the numbers to PyTorch and ONNX
 * (fixtures, ONNX conformance, the model zoo, the kernels and ops) again on
 * the WebAssembly kernels; test/helpers/wasm-backend.ts switches the backend
 * before each file and fails the file if WebAssembly did not load.
 */
const WASM_SUITES = [
  'test/kernels.*.test.ts',
  'test/tensor.conv.test.ts',
  'test/tensor.matmul.test.ts',
  'test/engine.fixtures.test.ts',
  'test/cam.fixtures*.test.ts',
  'test/onnx.converted.test.ts',
  'test/onnx.fixtures*.test.ts',
  'test/metrics.fixtures.test.ts',
  'test/onnx.zoo.test.ts',
  'test/models.test.ts',
];

/** Files the WASM_SUITES patterns match that pick their backends themselves, so run once (in 'js'). */
const WASM_EXCLUDE = ['test/kernels.threads.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default is one worker per core minus one: a single worker on
    // CI's two cores, which left one core idle for the whole run.
    maxWorkers: 2,
    // The long files first, so that neither worker idles at the end (see the sequencer).
    sequence: { sequencer: HeavyFirstSequencer },
    // The second says in one line what missing reference data (../shared) left out.
    reporters: ['default', './test/helpers/reference-reporter.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    projects: [
      // `provide`: a test file can ask at collection time which kernels it will run on (test/helpers/project.ts).
      { extends: true, test: { name: 'js', include: ['test/**/*.test.ts'], provide: { backend: 'js' } } },
      { extends: true, test: { name: 'wasm', include: WASM_SUITES, exclude: [...configDefaults.exclude, ...WASM_EXCLUDE], setupFiles: ['test/helpers/wasm-backend.ts'], provide: { backend: 'wasm' } } },
    ],
  },
});
