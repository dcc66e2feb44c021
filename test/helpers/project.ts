import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The kernels of the vitest project running the file (vitest.config.ts). */
    backend: 'js' | 'wasm';
  }
}

/**
 * Which kernels this file runs on, known at collection time (the wasm
 * project's setup switches the backend only in beforeAll): for suites that
 * run a check on one project only because the other adds time, not coverage.
 */
export function projectBackend(): 'js' | 'wasm' {
  return inject('backend') ?? 'js';
}
