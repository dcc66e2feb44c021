/**
 * Reads the orientation tag (0x0112) from a JPEG's APP1 Exif block. Every read
 * is bounds-checked; anything malformed means "no orientation" (1), because a
 * broken Exif block should not stop the picture from decoding.
 */

/** Whether an APP1 segment's data is an Exif block ("Exif\0\0"; APP1 also carries XMP). */
export function isExifBlock(app1: Uint8Array): boolean {
  return app1.length >= 6 && app1[0] === 0x45 && app1[1] === 0x78 && app1[2] === 0x69 && app1[3] === 0x66 && app1[4] === 0 && app1[5] === 0;
}

/** `app1` is the segment's data after its length field (starting with "Exif\0\0"). */
export function exifOrientation(app1: Uint8Array): number {
  // "Exif\0\0" then a TIFF header.
  if (app1.length < 14 || !isExifBlock(app1)) return 1;
  const tiff = app1.subarray(6);
  const little = tiff[0] === 0x49 && tiff[1] === 0x49; // "II"
  const big = tiff[0] === 0x4d && tiff[1] === 0x4d; // "MM"
  if (!little && !big) return 1;
  const u16 = (p: number) => (little ? tiff[p]! | (tiff[p + 1]! << 8) : (tiff[p]! << 8) | tiff[p + 1]!);
  const u32 = (p: number) =>
    little
      ? (tiff[p]! | (tiff[p + 1]! << 8) | (tiff[p + 2]! << 16) | (tiff[p + 3]! << 24)) >>> 0
      : ((tiff[p]! << 24) | (tiff[p + 1]! << 16) | (tiff[p + 2]! << 8) | tiff[p + 3]!) >>> 0;
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return 1;
    if (u16(entry) !== 0x0112) continue;
    const type = u16(entry + 2); // 3 = SHORT: the value sits in the first two bytes of the value field
    const value = type === 3 ? u16(entry + 8) : type === 4 ? u32(entry + 8) : 0;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}
