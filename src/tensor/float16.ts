/**
 * 16-bit floats to numbers, for the half-precision tensors of safetensors
 * and ONNX files.
 */

/** IEEE 754 binary16 bits -> number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const bfloat16Scratch = new DataView(new ArrayBuffer(4));

/** bfloat16 bits (the top half of a float32) -> number. */
export function bfloat16ToFloat(b: number): number {
  bfloat16Scratch.setUint32(0, (b & 0xffff) << 16);
  return bfloat16Scratch.getFloat32(0);
}
