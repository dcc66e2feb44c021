/**
 * Reads the entropy-coded bits of a JPEG scan the way libjpeg-turbo's
 * jdhuff.c does: 0xFF 0x00 is a data byte 0xFF, fill bytes 0xFF before a
 * marker are skipped, and a marker ends the data. Past the marker the reader
 * supplies zero bits and raises `insufficient`, after which the scan
 * decoder leaves the remaining blocks of the segment as they are (libjpeg's
 * "insufficient_data": grey for a first scan). The one difference: libjpeg
 * pretends a file that ends without a marker ends in EOI; Pillow refuses such
 * a file as truncated, and so do we, when a bit past the end is needed.
 */
import { ImageDecodeError } from '../errors.js';

export class EntropyReader {
  /** Up to 32 not yet consumed bits, the next one highest. */
  private acc = 0;
  private bits = 0;
  /** How many of the low `bits` are zero padding past the data. */
  private padding = 0;
  /** Offset of the next byte to read. */
  pos: number;
  /** The marker code that ended the data (e.g. 0xD0 for RST0), or -1 while none was met. */
  marker = -1;
  /** True once a bit beyond the data was consumed (reset by a restart). */
  insufficient = false;
  private atEnd = false;

  constructor(private readonly data: Uint8Array, start: number) {
    this.pos = start;
  }

  /** Makes at least `need` (<= 25) bits available, padding with zeros past the data. */
  private fill(need: number): void {
    const data = this.data;
    while (this.bits < need) {
      if (this.marker < 0 && !this.atEnd) {
        if (this.pos >= data.length) {
          this.atEnd = true;
          continue;
        }
        let c = data[this.pos++]!;
        if (c === 0xff) {
          do {
            if (this.pos >= data.length) {
              this.atEnd = true;
              break;
            }
            c = data[this.pos++]!;
          } while (c === 0xff);
          if (this.atEnd) continue;
          if (c !== 0) {
            this.marker = c;
            continue;
          }
          c = 0xff;
        }
        this.acc = (this.acc << 8) | c;
        this.bits += 8;
      } else {
        this.acc <<= 8;
        this.bits += 8;
        this.padding += 8;
      }
    }
  }

  private consume(n: number): void {
    this.bits -= n;
    if (this.bits < this.padding) {
      this.padding = this.bits;
      if (this.atEnd) {
        throw new ImageDecodeError('decodeImage: corrupt JPEG: the file ends inside the image data (truncated)');
      }
      this.insufficient = true;
    }
  }

  /** The next `n` (0..16) bits as an unsigned number. */
  getBits(n: number): number {
    if (n === 0) return 0;
    if (this.bits < n) this.fill(n);
    const v = (this.acc >>> (this.bits - n)) & ((1 << n) - 1);
    this.consume(n);
    return v;
  }

  getBit(): number {
    if (this.bits < 1) this.fill(1);
    const v = (this.acc >>> (this.bits - 1)) & 1;
    this.consume(1);
    return v;
  }

  /** The next `n` (<= 17) bits without consuming them. */
  peek(n: number): number {
    if (this.bits < n) this.fill(n);
    return (this.acc >>> (this.bits - n)) & ((1 << n) - 1);
  }

  skip(n: number): void {
    this.consume(n);
  }

  /**
   * Drops the unread bits and finds the next marker (skipping stray bytes,
   * as libjpeg's next_marker does); returns its code, or -1 at the end of the
   * file. `pos` is then just past the marker code.
   */
  nextMarker(): number {
    this.acc = 0;
    this.bits = 0;
    this.padding = 0;
    if (this.marker >= 0) return this.marker;
    const data = this.data;
    for (;;) {
      while (this.pos < data.length && data[this.pos] !== 0xff) this.pos++;
      while (this.pos < data.length && data[this.pos] === 0xff) this.pos++;
      if (this.pos >= data.length) return -1;
      const c = data[this.pos++]!;
      if (c !== 0) {
        this.marker = c;
        return c;
      }
    }
  }

  /** Forgets the marker just read, so that reading resumes after it (a restart marker). */
  acceptMarker(): void {
    this.marker = -1;
    this.insufficient = false;
  }
}

/** HUFF_EXTEND: the signed value of `s` magnitude bits `r` (T.81 F.2.2.1). */
export function extend(r: number, s: number): number {
  return r < 1 << (s - 1) ? r + (-1 << s) + 1 : r;
}
