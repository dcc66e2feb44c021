/**
 * tinycam/image: PNG and JPEG in and out, preprocessing to tensors,
 * colormaps, overlays and a captioned grid. No Node built-ins and no code
 * generation, so it runs in Node, browsers and edge runtimes.
 */
export type { RgbaImage, DecodeLimits, DecodeOptions } from './types.js';
export { createImage } from './types.js';
export { ImageDecodeError, ImageLimitError } from './errors.js';
export { decodeImage, detectImageFormat, type ImageFormat } from './decode.js';
export { readPngHeader, type PngHeader } from './png-decode.js';
export { readJpegHeader, type JpegHeader } from './jpeg-decode.js';
export { encodePng } from './png-encode.js';
export { encodeJpeg, type EncodeJpegOptions } from './jpeg-encode.js';
export { applyExifOrientation } from './orientation.js';
export { toTensor, tensorToImage, roundHalfEven } from './convert.js';
export { resize, shorterSideSize, type ResizeOptions } from './resize.js';
export { centerCrop, type CropSize } from './crop.js';
export { normalize, IMAGENET_MEAN, IMAGENET_STD, type NormalizeOptions } from './normalize.js';
export { preprocess, type PreprocessOptions } from './preprocess.js';
export { colormap, COLORMAP_NAMES, type ColormapName } from './colormap.js';
export { applyColormap, overlay, type OverlayOptions, type BlendName } from './overlay.js';
export { grid, type GridRow, type GridOptions } from './grid.js';
export { drawText, fillRect, blit, type Rgba } from './draw.js';
export { textWidth, GLYPHS } from './font.js';
