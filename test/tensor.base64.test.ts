/**
 * decodeBase64 takes the platform's decoder where there is one and gives
 * the same bytes as atob's loop; the checked decoder (for text from a
 * user's file) refuses what is not base64.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeBase64, decodeBase64Checked } from '../src/tensor/base64.js';
import { Rng } from '../src/tensor/random.js';

const rng = new Rng(11);
const samples = [0, 1, 2, 3, 4, 1000, 16_387].map((n) => Uint8Array.from({ length: n }, () => rng.nextUint32() & 255));
const encode = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

describe('decodeBase64', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    delete (Uint8Array as { fromBase64?: unknown }).fromBase64;
  });

  it.each(samples.map((s) => [s.length, s] as const))('decodes %i bytes as atob does, with Buffer and without', (_, bytes) => {
    const text = encode(bytes);
    expect(decodeBase64Checked(text)).toEqual(bytes);
    const viaBuffer = decodeBase64(text);
    expect(viaBuffer).toEqual(bytes);
    // Not a view into Node's pool: a Uint8Array of its own, whole buffer.
    expect(viaBuffer.constructor).toBe(Uint8Array);
    expect(viaBuffer.byteOffset).toBe(0);
    expect(viaBuffer.buffer.byteLength).toBe(bytes.length);
    vi.stubGlobal('Buffer', undefined);
    expect(decodeBase64(text)).toEqual(bytes);
  });

  it('prefers Uint8Array.fromBase64 where the platform has it', () => {
    const fromBase64 = vi.fn((text: string) => decodeBase64Checked(text));
    (Uint8Array as { fromBase64?: unknown }).fromBase64 = fromBase64;
    expect(decodeBase64(encode(samples[5]!))).toEqual(samples[5]);
    expect(fromBase64).toHaveBeenCalledOnce();
  });

  it('the checked decoder refuses characters outside base64', () => {
    expect(() => decodeBase64Checked('AAA*')).toThrow();
  });
});
