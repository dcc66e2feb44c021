import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/**
 * Reference data lives in two places:
 *  - ../shared beside the repository: the full sets (CI lays them there);
 *  - test/fixtures in the repository: a compact copy of part of them, in the
 *    same layout and format (a subset of the same files, the manifests cut to
 *    match), so a fresh clone with nothing beside it still compares against
 *    PyTorch. test/fixtures/README.md says what it holds and where from.
 *
 * A test names the data it needs by its path under ../shared ('fixtures',
 * 'onnx-model-zoo-light', 'fixtures/models/squeezenet1_1.safetensors'), and
 * `referencePath` gives the full copy when it exists, else the compact one.
 * Suites declare which they need, so that the run can say what it left out
 * (test/helpers/reference-reporter.ts prints one line at the end):
 *  - describeShared:    the full data only; skipped with one line without it;
 *  - describeReference: the full data, or the compact copy when ../shared is absent;
 *  - itReference:       one test, the same way.
 * Never read reference data at a test file's top level outside such a block.
 */
export const SHARED = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared');

/** The compact copy committed with the repository. */
export const COMPACT = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures');

/** Which copy of some reference data a run uses. */
export type ReferenceData = 'full' | 'compact' | 'absent';

declare module 'vitest' {
  interface TaskMeta {
    /** The reference data (a path under ../shared) a suite or test needs. */
    reference?: string;
    /** Which copy of it this run used. */
    referenceData?: ReferenceData;
  }
}

/** Whether ../shared/<path> exists (path '' is ../shared itself). */
export function hasShared(path = ''): boolean {
  return existsSync(join(SHARED, path));
}

/** 'full' when ../shared/<path> exists, 'compact' when only test/fixtures/<path> does. */
export function referenceData(path: string): ReferenceData {
  if (hasShared(path)) return 'full';
  return existsSync(join(COMPACT, path)) ? 'compact' : 'absent';
}

/** ../shared/<path> when it exists, else test/fixtures/<path> (which may not exist either: see referenceData). */
export function referencePath(path: string): string {
  return hasShared(path) ? join(SHARED, path) : join(COMPACT, path);
}

function skippedTitle(path: string, compactToo: boolean): string {
  return compactToo
    ? `needs ../shared/${path}, which is not beside this repository (nor in the compact copy test/fixtures)`
    : `needs ../shared/${path}, which is not beside this repository`;
}

/**
 * A describe block that needs the full ../shared/<path>. When it exists, an
 * ordinary describe. When it does not, `body` is never called (it usually
 * reads the folder's manifest to list its cases), and one skipped test names
 * the folder; the reporter adds how many tests that left out.
 */
export function describeShared(path: string, title: string, body: () => void): void {
  if (hasShared(path)) {
    describe(title, { meta: { reference: path, referenceData: 'full' } }, body);
    return;
  }
  describe(title, { meta: { reference: path, referenceData: 'absent' } }, () => {
    it.skip(skippedTitle(path, false), () => {});
  });
}

/**
 * A describe block that runs over ../shared/<path> when it exists and over
 * the compact copy test/fixtures/<path> otherwise (its body reads the data
 * through referencePath, or helpers built on it such as FIXTURES); skipped
 * with one line when neither exists.
 */
export function describeReference(path: string, title: string, body: () => void): void {
  const data = referenceData(path);
  if (data === 'absent') {
    describe(title, { meta: { reference: path, referenceData: data } }, () => {
      it.skip(skippedTitle(path, true), () => {});
    });
    return;
  }
  describe(title, { meta: { reference: path, referenceData: data } }, body);
}

/** One test that needs ../shared/<path> or its compact copy; skipped (and counted) when neither exists. */
export function itReference(path: string, title: string, fn: () => void | Promise<void>, timeout?: number): void {
  const data = referenceData(path);
  const options = { meta: { reference: path, referenceData: data }, ...(timeout === undefined ? {} : { timeout }) };
  if (data === 'absent') it.skip(`${title} (${skippedTitle(path, true)})`, options, fn);
  else it(title, options, fn);
}
