import { afterAll, beforeAll } from 'vitest';
import { getBackend, setBackend, type BackendName } from '../../src/tensor/backend.js';

/** Both backends, for tests that compare them within one file. */
export const BACKENDS: readonly BackendName[] = ['js', 'wasm'];

/** Inside a describe block: run its tests on `name`, and restore the previous backend after. */
export function useBackend(name: BackendName): void {
  let previous: BackendName = 'js';
  beforeAll(async () => {
    previous = getBackend();
    const ok = await setBackend(name, { warn: (m) => { throw new Error(m); } });
    if (!ok) throw new Error(`backend ${name} did not load`);
  });
  afterAll(async () => {
    await setBackend(previous);
  });
}
