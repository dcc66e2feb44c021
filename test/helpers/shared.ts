import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/**
 * The reference folder ../shared beside the repository (CI lays it there; a
 * user's fresh clone has nothing there). Suites that need it are declared
 * with `describeShared`, so a fresh clone skips them instead of failing.
 */
export const SHARED = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared');

/** Whether ../shared/<folder> exists (folder '' is ../shared itself). */
export function hasShared(folder = ''): boolean {
  return existsSync(join(SHARED, folder));
}

/**
 * A describe block that needs ../shared/<folder>. When the folder exists, it
 * is an ordinary describe. When it does not, `body` is never called (it
 * usually reads the folder's manifest to list its cases), and one skipped
 * test names the folder, so the run says what it left out.
 */
export function describeShared(folder: string, title: string, body: () => void): void {
  if (hasShared(folder)) {
    describe(title, body);
    return;
  }
  describe(title, () => {
    it.skip(`needs ../shared/${folder}, which is not beside this repository`, () => {});
  });
}
