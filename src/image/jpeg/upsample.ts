/**
 * Chroma upsampling as libjpeg-turbo does it by default (jdsample.c with
 * do_fancy_upsampling): a triangle filter for the 2:1 ratios ("fancy"
 * upsampling: 3/4 of the nearer sample, 1/4 of the further, with
 * alternating rounding biases), replication for other integer ratios and for
 * components at most 2 samples wide. At the image's edges the missing
 * neighbour is the edge sample itself, as jdmainct.c's context rows and the
 * routines' first- and last-column cases make it.
 */

export interface ComponentPlane {
  /** Samples after the IDCT, `stride` per row; rows and columns past (width, height) are padding. */
  samples: Uint8Array;
  stride: number;
  /** The component's own size: ceil(image size * factor / largest factor). */
  width: number;
  height: number;
  /** Upsampling ratios: largest factor / this component's factor (whole numbers). */
  ratioH: number;
  ratioV: number;
}

export type RowSource = (y: number) => { samples: Uint8Array; at: number };

/**
 * A function giving, for output row y, the component's samples upsampled
 * to full width (in a scratch row it owns, or straight from the plane).
 */
export function rowUpsampler(plane: ComponentPlane, outWidth: number): RowSource {
  const { samples, stride, width, height, ratioH, ratioV } = plane;
  const row = new Uint8Array(width * ratioH + 2);
  const result = { samples: row, at: 0 };
  const lastRow = height - 1;
  if (ratioH === 1 && ratioV === 1) {
    const direct = { samples, at: 0 };
    return (y) => {
      direct.at = y * stride;
      return direct;
    };
  }
  if (ratioH === 2 && ratioV === 1 && width > 2) {
    return (y) => {
      h2v1Fancy(samples, y * stride, width, row);
      return result;
    };
  }
  if (ratioH === 1 && ratioV === 2) {
    return (y) => {
      const near = y >> 1;
      const below = (y & 1) === 1;
      const far = below ? Math.min(near + 1, lastRow) : Math.max(near - 1, 0);
      const bias = below ? 2 : 1;
      const a = near * stride;
      const b = far * stride;
      for (let x = 0; x < width; x++) row[x] = (samples[a + x]! * 3 + samples[b + x]! + bias) >> 2;
      return result;
    };
  }
  if (ratioH === 2 && ratioV === 2 && width > 2) {
    const colsum = new Int32Array(width);
    return (y) => {
      const near = y >> 1;
      const far = (y & 1) === 1 ? Math.min(near + 1, lastRow) : Math.max(near - 1, 0);
      const a = near * stride;
      const b = far * stride;
      for (let x = 0; x < width; x++) colsum[x] = samples[a + x]! * 3 + samples[b + x]!;
      h2v2Fancy(colsum, width, row);
      return result;
    };
  }
  // Replication (int_upsample, h2v1_upsample, h2v2_upsample).
  return (y) => {
    const a = Math.floor(y / ratioV) * stride;
    for (let x = 0; x < outWidth; x++) row[x] = samples[a + Math.floor(x / ratioH)]!;
    return result;
  };
}

/** h2v1_fancy_upsample on one row of `width` (> 2) samples. */
function h2v1Fancy(src: Uint8Array, at: number, width: number, out: Uint8Array): void {
  let v = src[at]!;
  out[0] = v;
  out[1] = (v * 3 + src[at + 1]! + 2) >> 2;
  for (let x = 1; x < width - 1; x++) {
    v = src[at + x]! * 3;
    out[2 * x] = (v + src[at + x - 1]! + 1) >> 2;
    out[2 * x + 1] = (v + src[at + x + 1]! + 2) >> 2;
  }
  v = src[at + width - 1]!;
  out[2 * width - 2] = (v * 3 + src[at + width - 2]! + 1) >> 2;
  out[2 * width - 1] = v;
}

/** The horizontal half of h2v2_fancy_upsample, on column sums 3 * nearer row + further row. */
function h2v2Fancy(colsum: Int32Array, width: number, out: Uint8Array): void {
  let s = colsum[0]!;
  out[0] = (s * 4 + 8) >> 4;
  out[1] = (s * 3 + colsum[1]! + 7) >> 4;
  for (let x = 1; x < width - 1; x++) {
    s = colsum[x]! * 3;
    out[2 * x] = (s + colsum[x - 1]! + 8) >> 4;
    out[2 * x + 1] = (s + colsum[x + 1]! + 7) >> 4;
  }
  s = colsum[width - 1]!;
  out[2 * width - 2] = (s * 3 + colsum[width - 2]! + 8) >> 4;
  out[2 * width - 1] = (s * 4 + 7) >> 4;
}
