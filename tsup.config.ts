import { defineConfig } from 'tsup';

/**
 * One build, several entry points. The core (`tinycam`) and the
 * browser/edge-safe entries are bundled without Node built-ins; `node` and
 * the CLI are the only entries that may use them.
 */
export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      image: 'src/image/index.ts',
      onnx: 'src/onnx/index.ts',
      tfjs: 'src/tfjs/index.ts',
      models: 'src/models/index.ts',
      ndarray: 'src/ndarray/index.ts',
      node: 'src/node/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    splitting: true,
    treeshake: true,
    // Module.typeName reads the class name; keep it through bundling.
    esbuildOptions(options) {
      options.keepNames = true;
    },
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    target: 'node18',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
    sourcemap: true,
  },
]);
