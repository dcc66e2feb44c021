import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that take a large share of a CI run (seconds, measured on a 2-core
 * run on 2026-12-01), per project. On a fresh clone vitest has no timing
 * cache and runs larger files first, which put cam.fixtures (a small file
 * that takes two minutes) at the end of the run, with one worker idle
 * beside it. Starting the long files first keeps both workers busy to the
 * end: the whole suite is bounded by CI's 10 minutes.
 */
const HEAVY: Record<string, number> = {
  'js:test/cam.fixtures.test.ts': 80,
  'js:test/onnx.zoo.test.ts': 65,
  'js:test/tfjs.nsfwjs.test.ts': 18,
  'js:test/tfjs.graph.test.ts': 25,
  'wasm:test/cam.fixtures.test.ts': 40,
  'wasm:test/onnx.zoo.test.ts': 34,
  'js:test/onnx.fixtures.test.ts': 30,
  'js:test/shapes.model.test.ts': 24,
  'js:test/fresh-clone.test.ts': 21,
};

export default class HeavyFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const weight = (f: TestSpecification) => HEAVY[`${f.project.name}:${relative(f.project.config.root, f.moduleId)}`] ?? 0;
    // Array.prototype.sort is stable: files not listed keep vitest's own order after the heavy ones.
    return base.sort((a, b) => weight(b) - weight(a));
  }
}
