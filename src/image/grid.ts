import { ArgumentError } from '../tensor/errors.js';
import type { ColormapName } from './colormap.js';
import { blit, drawText, fillRect, type Rgba } from './draw.js';
import { GLYPH_HEIGHT, textWidth } from './font.js';
import { applyColormap, mapPlane, overlay, type BlendName } from './overlay.js';
import { resize } from './resize.js';
import { Tensor } from '../tensor/tensor.js';
import { createImage, type RgbaImage } from './types.js';
import { checkBoolean, checkColour, checkImage, checkInteger, optionsOf } from './validate.js';

export interface GridRow {
  /** Caption, e.g. the method's name (drawn in capitals with the built-in 5x7 font). */
  name: string;
  image: RgbaImage;
  /** Map with values in [0, 1]: [H, W], [1, H, W] or [1, 1, H, W]; resized to the image if needed. */
  map: Tensor;
}

export interface GridOptions {
  colormap?: ColormapName;
  alpha?: number;
  blend?: BlendName;
  /** Font pixel size (default: 1 for pictures under 128 px wide, else 2). */
  textScale?: number;
  /** Gap between cells and around the grid, in pixels (default 4). */
  gap?: number;
  /** Column titles ('image', 'heat-map', 'overlay') above the first row (default true). */
  headers?: boolean;
  background?: Rgba;
  textColour?: Rgba;
}

/**
 * One row per entry: image | coloured map | overlay, with the row's name as a
 * caption above it. Returns an opaque RGBA image (encode it with encodePng).
 */
export function grid(rows: readonly GridRow[], gridOptions?: GridOptions): RgbaImage {
  const options = optionsOf('grid', gridOptions);
  if (!Array.isArray(rows) || rows.length === 0) throw new ArgumentError('grid: expected a non-empty array of { name, image, map }');
  rows.forEach((r, i) => {
    if (!r || typeof r.name !== 'string') throw new ArgumentError(`grid: row ${i} needs a name (string)`);
    checkImage(`grid (row ${i}, '${r.name}')`, r.image);
    mapPlane(`grid (row ${i}, '${r.name}')`, r.map);
  });
  const gap = checkInteger('grid', 'gap', options.gap ?? 4, 0);
  const widest = Math.max(...rows.map((r) => r.image.width));
  const scale = options.textScale ?? (widest < 128 ? 1 : 2);
  if (!Number.isInteger(scale) || scale < 1) throw new ArgumentError(`grid: textScale must be a positive integer, got ${scale}`);
  const background = options.background ?? [24, 24, 24, 255];
  const ink = options.textColour ?? [240, 240, 240, 255];
  checkColour('grid', 'background', background);
  checkColour('grid', 'textColour', ink);
  checkBoolean('grid', 'headers', options.headers);
  const caption = GLYPH_HEIGHT * scale + gap;
  const headers = options.headers ?? true;
  const titles = ['image', 'heat-map', 'overlay'];

  const rowWidth = (r: GridRow) => 3 * r.image.width + 2 * gap;
  const widthNeeded = Math.max(...rows.map((r) => Math.max(rowWidth(r), textWidth(r.name, scale))));
  const width = widthNeeded + 2 * gap;
  const height = gap + (headers ? caption : 0) + rows.reduce((h, r) => h + caption + r.image.height + gap, 0);
  const out = createImage(width, height);
  fillRect(out, 0, 0, width, height, background);

  let y = gap;
  if (headers) {
    const w0 = rows[0]!.image.width;
    titles.forEach((t, i) => drawText(out, t, gap + i * (w0 + gap) + Math.max(0, (w0 - textWidth(t, scale)) >> 1), y, ink, scale));
    y += caption;
  }
  for (const r of rows) {
    drawText(out, r.name, gap, y, ink, scale);
    y += caption;
    const { width: W, height: H } = r.image;
    const plane = mapPlane('grid', r.map);
    const map = plane.width === W && plane.height === H ? r.map : resize(new Tensor(plane.data, [plane.height, plane.width]), { width: W, height: H });
    const opaque = { width: W, height: H, data: r.image.data.slice() };
    for (let i = 3; i < opaque.data.length; i += 4) opaque.data[i] = 255;
    blit(out, opaque, gap, y);
    blit(out, applyColormap(map, options.colormap ?? 'jet'), gap + W + gap, y);
    const o: { colormap?: ColormapName; alpha?: number; blend?: BlendName } = {};
    if (options.colormap) o.colormap = options.colormap;
    if (options.alpha !== undefined) o.alpha = options.alpha;
    if (options.blend) o.blend = options.blend;
    blit(out, overlay(r.image, map, o), gap + 2 * (W + gap), y);
    y += H + gap;
  }
  return out;
}
