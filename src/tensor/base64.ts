/**
 * Base64 to bytes on every platform tinycam runs on, without importing a
 * Node built-in: the platform's own decoder where it has one
 * (`Uint8Array.fromBase64`, or Node's and Bun's global `Buffer`), else
 * `atob` and a loop. The loop is what a cold process should avoid: for the
 * 16 KB kernels module V8 interprets it, then compiles it with TurboFan on a
 * background thread, several ms of CPU for a one-off decode.
 */
type NativeDecoders = {
  fromBase64?: (text: string) => Uint8Array;
};
type NodeLikeBuffer = { from(text: string, encoding: 'base64'): Uint8Array };

/** For text tinycam itself wrote (the kernels module): fast, and lenient where the platform's decoder is. */
export function decodeBase64(text: string): Uint8Array {
  const native = Uint8Array as unknown as NativeDecoders;
  if (typeof native.fromBase64 === 'function') return native.fromBase64(text);
  const buffer = (globalThis as { Buffer?: NodeLikeBuffer }).Buffer;
  if (typeof buffer?.from === 'function') {
    const bytes = buffer.from(text, 'base64');
    // A Buffer may be a view into Node's shared pool: copy out a plain Uint8Array of its own.
    return new Uint8Array(bytes);
  }
  return decodeBase64Checked(text);
}

/**
 * atob and a loop. atob throws on a character outside base64 where Buffer
 * would skip it, so this is the decoder for text from a user's file.
 */
export function decodeBase64Checked(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
