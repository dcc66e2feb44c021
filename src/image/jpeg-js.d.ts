// jpeg-js's decoder on its own (its index also loads the encoder, which needs Node's Buffer).
declare module 'jpeg-js/lib/decoder.js' {
  interface JpegJsDecodeOptions {
    useTArray: true;
    colorTransform?: boolean;
    formatAsRGBA?: boolean;
    tolerantDecoding?: boolean;
    maxResolutionInMP?: number;
    maxMemoryUsageInMB?: number;
  }
  function decode(
    data: Uint8Array,
    options: JpegJsDecodeOptions,
  ): { width: number; height: number; data: Uint8Array; exifBuffer?: Uint8Array };
  export default decode;
}
