/**
 * Huffman decoding tables, built and validated as libjpeg-turbo's
 * jpeg_make_d_derived_tbl does, and the symbol decoder (a 9-bit lookup, then
 * T.81 Figure F.16 bit by bit for longer codes).
 */
import { ImageDecodeError } from '../errors.js';
import type { EntropyReader } from './entropy-reader.js';

const LOOKAHEAD = 9;

export interface HuffmanTable {
  /** (code length << 8) | symbol for every LOOKAHEAD-bit prefix that starts with a short code; 0 if the code is longer. */
  lookup: Uint16Array;
  /** Largest code of each length 1..17, -1 where there is none (17 is a sentinel). */
  maxcode: Int32Array;
  /** Symbol index minus the first code of each length. */
  valoffset: Int32Array;
  symbols: Uint8Array;
}

/**
 * `counts[l - 1]` codes of length l (l = 1..16), `symbols` in code order.
 * Fails, as libjpeg does, when the counts overflow a code length or name
 * more than 256 symbols, and when a DC table holds a symbol above 15.
 */
export function buildHuffmanTable(counts: ArrayLike<number>, symbols: Uint8Array, isDc: boolean): HuffmanTable {
  const bad = (why: string): never => {
    throw new ImageDecodeError(`decodeImage: corrupt JPEG: a Huffman table is invalid (${why})`);
  };
  let total = 0;
  for (let l = 0; l < 16; l++) total += counts[l]!;
  if (total > 256 || total > symbols.length) bad(`it declares ${total} codes`);
  const maxcode = new Int32Array(18).fill(-1);
  const valoffset = new Int32Array(18);
  const lookup = new Uint16Array(1 << LOOKAHEAD);
  let code = 0;
  let p = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1]!;
    if (n > 0) {
      valoffset[l] = p - code;
      for (let i = 0; i < n; i++, p++, code++) {
        if (l <= LOOKAHEAD) {
          const first = code << (LOOKAHEAD - l);
          lookup.fill((l << 8) | symbols[p]!, first, first + (1 << (LOOKAHEAD - l)));
        }
      }
      maxcode[l] = code - 1;
      // No code may be all ones: the next free code must still fit in l bits.
      if (code >= 1 << l) bad(`the codes of length ${l} overflow`);
    }
    code <<= 1;
  }
  maxcode[17] = 0xfffff;
  if (isDc) {
    for (let i = 0; i < total; i++) if (symbols[i]! > 15) bad(`DC symbol ${symbols[i]} is above 15`);
  }
  return { lookup, maxcode, valoffset, symbols: symbols.slice(0, total) };
}

/** Decodes one symbol; an invalid code reads 17 bits and gives 0, as libjpeg does ("fake a zero"). */
export function decodeSymbol(reader: EntropyReader, table: HuffmanTable): number {
  const entry = table.lookup[reader.peek(LOOKAHEAD)]!;
  if (entry !== 0) {
    reader.skip(entry >> 8);
    return entry & 0xff;
  }
  const bits = reader.peek(17);
  for (let l = LOOKAHEAD + 1; l <= 16; l++) {
    const code = bits >>> (17 - l);
    if (code <= table.maxcode[l]!) {
      reader.skip(l);
      return table.symbols[(code + table.valoffset[l]!) & 0xff] ?? 0;
    }
  }
  reader.skip(17);
  return 0;
}
