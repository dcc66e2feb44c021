import { ArgumentError } from '../tensor/errors.js';
import { INFERNO_HEX, MAGMA_HEX, TURBO_HEX, VIRIDIS_HEX } from './colormap-tables.js';

export type ColormapName = 'jet' | 'turbo' | 'viridis' | 'inferno' | 'magma' | 'gray';
export const COLORMAP_NAMES: readonly ColormapName[] = ['jet', 'turbo', 'viridis', 'inferno', 'magma', 'gray'];

const f = Math.fround;

/** Round half to even, as OpenCV's cvRound / v_round. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** GNU Octave's jet at x in [0, 1] (the curve OpenCV's COLORMAP_JET tabulates). */
function octaveJet(x: number): [number, number, number] {
  const r = x >= 3 / 8 && x < 5 / 8 ? 4 * x - 3 / 2 : x >= 5 / 8 && x < 7 / 8 ? 1 : x >= 7 / 8 ? -4 * x + 9 / 2 : 0;
  const g = x >= 1 / 8 && x < 3 / 8 ? 4 * x - 1 / 2 : x >= 3 / 8 && x < 5 / 8 ? 1 : x >= 5 / 8 && x < 7 / 8 ? -4 * x + 7 / 2 : 0;
  const b = x < 1 / 8 ? 4 * x + 1 / 2 : x >= 1 / 8 && x < 3 / 8 ? 1 : x >= 3 / 8 && x < 5 / 8 ? -4 * x + 5 / 2 : 0;
  return [r, g, b];
}

/**
 * OpenCV's COLORMAP_JET, computed the way colormap.cpp does: Octave's jet
 * sampled at 256 float32 points, looked up again at float32 linspace(0, 1,
 * 256) by its interp1 (binary search, then a float32 linear interpolation
 * that lands within an ulp of the sample), times 255 in float32 and rounded
 * half to even. The float32 detour is why some entries are one off the
 * plain formula (e.g. blue at 159 is 1, not 2).
 */
function jetTable(): Uint8Array {
  const n = 256;
  const step = f(1 / (n - 1));
  const X = new Float32Array(n);
  const Y = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let i = 0; i < n; i++) {
    X[i] = f(i * step);
    const rgb = octaveJet(i / (n - 1));
    for (let c = 0; c < 3; c++) Y[c]![i] = rgb[c]!;
  }
  const table = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const xi = X[i]!;
    let low = 0;
    let high = n - 1;
    while (high - low > 1) {
      const mid = low + ((high - low) >> 1);
      if (xi > X[mid]!) low = mid;
      else high = mid;
    }
    for (let c = 0; c < 3; c++) {
      const y = Y[c]!;
      const v = f(y[low]! + f(f(f(xi - X[low]!) * f(y[high]! - y[low]!)) / f(X[high]! - X[low]!)));
      table[i * 3 + c] = Math.min(255, Math.max(0, roundHalfEven(f(v * 255))));
    }
  }
  return table;
}

function fromHex(hex: string): Uint8Array {
  const table = new Uint8Array(hex.length / 2);
  for (let i = 0; i < table.length; i++) table[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return table;
}

function grayTable(): Uint8Array {
  const table = new Uint8Array(768);
  for (let i = 0; i < 256; i++) table[i * 3] = table[i * 3 + 1] = table[i * 3 + 2] = i;
  return table;
}

const BUILDERS: Record<ColormapName, () => Uint8Array> = {
  jet: jetTable,
  turbo: () => fromHex(TURBO_HEX),
  viridis: () => fromHex(VIRIDIS_HEX),
  inferno: () => fromHex(INFERNO_HEX),
  magma: () => fromHex(MAGMA_HEX),
  gray: grayTable,
};
const cache = new Map<ColormapName, Uint8Array>();

/**
 * A 256-entry colour table, RGB order: entry i (bytes 3i..3i+2) is the
 * colour of value i, equal to OpenCV's applyColorMap of i (converted from
 * BGR). A fresh copy on every call, so callers may change it.
 */
export function colormap(name: ColormapName): Uint8Array {
  return sharedTable('colormap', name).slice();
}

/** The cached table (not to be modified); for the functions of this module. */
export function sharedTable(fn: string, name: ColormapName): Uint8Array {
  // Own names only: 'constructor' or 'toString' must not find Object's functions.
  const build = typeof name === 'string' && Object.hasOwn(BUILDERS, name) ? BUILDERS[name] : undefined;
  if (!build) {
    throw new ArgumentError(`${fn}: unknown colormap '${String(name)}'; accepted: ${COLORMAP_NAMES.map((n) => `'${n}'`).join(', ')}`);
  }
  let table = cache.get(name);
  if (!table) cache.set(name, (table = build()));
  return table;
}
