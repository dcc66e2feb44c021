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
  /**
   * Each row's name in a column of its own at the left, beside its row
   * (default true). false leaves the column out: for grids placed side by
   * side after one that names the rows.
   */
  rowLabels?: boolean;
  background?: Rgba;
  textColour?: Rgba;
}

/**
 * One row per entry: image | coloured map | overlay, with the row's name in
 * a column at the left and the column titles above. Each piece of text has
 * its own space: a row's name never sits under a title. Returns an opaque
 * RGBA image (encode it with encodePng).
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
  const widest = rows.reduce((w, r) => Math.max(w, r.image.width), 0);
  const scale = options.textScale ?? (widest < 128 ? 1 : 2);
  if (!Number.isInteger(scale) || scale < 1) throw new ArgumentError(`grid: textScale must be a positive integer, got ${scale}`);
  const background = options.background ?? [24, 24, 24, 255];
  const ink = options.textColour ?? [240, 240, 240, 255];
  checkColour('grid', 'background', background);
  checkColour('grid', 'textColour', ink);
  checkBoolean('grid', 'headers', options.headers);
  checkBoolean('grid', 'rowLabels', options.rowLabels);
  const textHeight = GLYPH_HEIGHT * scale;
  const headers = options.headers ?? true;
  const titles = ['image', 'heat-map', 'overlay'];

  // The label column, then the three picture columns of the widest row.
  const labels = options.rowLabels ?? true;
  const labelWidth = labels ? rows.reduce((w, r) => Math.max(w, textWidth(r.name, scale)), 0) : 0;
  const left = gap + (labelWidth > 0 ? labelWidth + gap : 0);
  const width = left + rows.reduce((w, r) => Math.max(w, 3 * r.image.width + 2 * gap), 0) + gap;
  const headerHeight = headers ? textHeight + gap : 0;
  const height = gap + headerHeight + rows.reduce((h, r) => h + Math.max(r.image.height, labels ? textHeight : 0) + gap, 0);
  const out = createImage(width, height);
  fillRect(out, 0, 0, width, height, background);

  let y = gap;
  if (headers) {
    const w0 = rows[0]!.image.width;
    titles.forEach((t, i) => drawText(out, t, left + i * (w0 + gap) + Math.max(0, (w0 - textWidth(t, scale)) >> 1), y, ink, scale));
    y += headerHeight;
  }
  for (const r of rows) {
    const { width: W, height: H } = r.image;
    const rowHeight = Math.max(H, labels ? textHeight : 0);
    if (labels) drawText(out, r.name, gap, y + ((rowHeight - textHeight) >> 1), ink, scale);
    const plane = mapPlane('grid', r.map);
    const map = plane.width === W && plane.height === H ? r.map : resize(new Tensor(plane.data, [plane.height, plane.width]), { width: W, height: H });
    const opaque = { width: W, height: H, data: r.image.data.slice() };
    for (let i = 3; i < opaque.data.length; i += 4) opaque.data[i] = 255;
    blit(out, opaque, left, y);
    blit(out, applyColormap(map, options.colormap ?? 'jet'), left + W + gap, y);
    const o: { colormap?: ColormapName; alpha?: number; blend?: BlendName } = {};
    if (options.colormap) o.colormap = options.colormap;
    if (options.alpha !== undefined) o.alpha = options.alpha;
    if (options.blend) o.blend = options.blend;
    blit(out, overlay(r.image, map, o), left + 2 * (W + gap), y);
    y += rowHeight + gap;
  }
  return out;
}
