/**
 * --backend, taken by every command that runs the model (explain and its
 * --jobs workers, compare, layers): the kernels of the run. The command
 * always runs in Node, where WebAssembly compiles at run time, so its default
 * is 'wasm' (3-8x faster on real models). The library's own default stays
 * 'js': its core bundle does not carry the WebAssembly kernels.
 */
import { setBackend } from '../tensor/backend.js';
import { UsageError } from './args-error.js';

/** What --backend accepts. ('auto' is left out: a run would switch kernels partway.) */
export const CLI_BACKENDS = ['js', 'wasm'] as const;
export type CliBackend = (typeof CLI_BACKENDS)[number];

/** The kernels when --backend is not given. */
export const DEFAULT_CLI_BACKEND: CliBackend = 'wasm';

/** The parseArgs entry (node:util). */
export const BACKEND_OPTION = { backend: { type: 'string', default: DEFAULT_CLI_BACKEND } } as const;

/** The help lines, the same under every command that takes --backend. */
export const BACKEND_HELP = `      --backend <name>     wasm (default: the WebAssembly SIMD kernels, several times faster on
                           large models; where WebAssembly cannot load, the run goes on with js
                           and a one-line notice) or js (the pure-TS kernels)`;

/** --backend's value, checked. */
export function parseBackendOption(value: string | undefined): CliBackend {
  const backend = value ?? DEFAULT_CLI_BACKEND;
  if (!(CLI_BACKENDS as readonly string[]).includes(backend)) {
    throw new UsageError(`unknown --backend '${backend}'; accepted: ${CLI_BACKENDS.join(', ')}`);
  }
  return backend as CliBackend;
}

/**
 * Runs `run` on the kernels `backend` names. 'js': at once (nothing to load),
 * so a synchronous run's result comes back as it is. 'wasm': once the
 * WebAssembly kernels are loaded; where they cannot load, the JS kernels stay,
 * `warn` gets the library's one-line notice, and the run goes on (its exit
 * code is the run's own). A --jobs worker loads them again for itself, quietly.
 */
export function onBackend<T>(backend: CliBackend, warn: (line: string) => void, run: () => T | Promise<T>): T | Promise<T> {
  if (backend === 'js') {
    // Also when a caller in this process (a test) left the WebAssembly kernels on: --backend js means them.
    void setBackend('js'); // takes effect before it returns: nothing to load
    return run();
  }
  return setBackend('wasm', { warn }).then(run);
}
