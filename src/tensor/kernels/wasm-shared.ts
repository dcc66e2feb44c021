/**
 * The kernels module over a shared memory, for the intra-op threads
 * (./threads.ts): the same bytes as the built module (wasm/assembly, built
 * by `npm run build:wasm`) with its own memory (`(memory 1)`) replaced by an
 * import of a shared one, `(import "env" "memory" (memory 1 65536 shared))`.
 * The code and exports are untouched, so every thread runs exactly the
 * kernels the one-thread backend runs. It is what asc gives for the same
 * source with `--importMemory --sharedMemory --maximumMemory 65536
 * --zeroFilledMemory --enable threads`, byte for byte (checked when this
 * was written: `npx asc wasm/assembly/index.ts` with build.mjs's FLAGS plus
 * those), without shipping a second binary or compiling twice in the build
 * test.
 *
 * It imports nothing of the core (not even the typed errors): code that only a
 * dynamic import reaches and that shares a module with the core entry makes
 * bundlers wrap that module for lazy start, in every consumer's bundle. Its
 * input is always tinycam's own module; setBackend turns a failure into the
 * one-thread fallback with a notice.
 */
export const SHARED_MAX_PAGES = 65536;

const SECTION_TYPE = 1;
const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

const utf8 = (text: string): number[] => [...new TextEncoder().encode(text)];

/** Rewrite a module that defines one memory into one that imports a shared memory `env.memory`. */
export function withSharedMemoryImport(bytes: Uint8Array): Uint8Array {
  const fail = (why: string): never => {
    throw new Error(`kernel threads: the kernels module cannot be given a shared memory (${why}); accepted: the module tinycam builds (one memory, no imports)`);
  };
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) fail('not a WebAssembly module');
  let p = 8;
  const readLeb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[p++];
      if (byte === undefined) return fail('truncated');
      result += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return result;
      shift += 7;
    }
  };
  const sections: { id: number; body: Uint8Array }[] = [];
  while (p < bytes.length) {
    const id = bytes[p++]!;
    const size = readLeb();
    if (p + size > bytes.length) fail('truncated section');
    sections.push({ id, body: bytes.subarray(p, p + size) });
    p += size;
  }
  if (sections.some((s) => s.id === SECTION_IMPORT)) fail('it already has imports');
  const memory = sections.find((s) => s.id === SECTION_MEMORY);
  // One memory, limits without a maximum (flag 0) and 1 page minimum: what `--initialMemory 1` gives.
  if (!memory || memory.body.length !== 3 || memory.body[0] !== 1 || memory.body[1] !== 0) fail('its memory is not the one built-in memory');
  const minimum = memory!.body[2]!;
  const importBody = [
    1,
    ...leb(3), ...utf8('env'),
    ...leb(6), ...utf8('memory'),
    0x02, // kind: memory
    0x03, // limits: maximum present, shared
    ...leb(minimum), ...leb(SHARED_MAX_PAGES),
  ];
  const out: number[] = [...bytes.subarray(0, 8)];
  const emit = (id: number, body: ArrayLike<number>): void => {
    out.push(id, ...leb(body.length));
    for (let i = 0; i < body.length; i++) out.push(body[i]!);
  };
  let imported = false;
  for (const s of sections) {
    if (s.id === SECTION_MEMORY) continue;
    // The import section comes right after the type section (custom sections aside).
    if (!imported && s.id !== 0 && s.id > SECTION_TYPE) {
      emit(SECTION_IMPORT, importBody);
      imported = true;
    }
    emit(s.id, s.body);
  }
  if (!imported) fail('it has no code');
  return new Uint8Array(out);
}
