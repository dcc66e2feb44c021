import type { Box, BoxFormat } from '../cam/boxTarget.js';
import { UsageError } from './args-error.js';

/**
 * --target as typed: a class (index or --labels name), a segmentation class
 * (`seg:<class>`), or a detector's box (`box:<class>@x1,y1,x2,y2`). Names are
 * resolved once the labels are read.
 */
export type TargetOption =
  | { kind: 'class'; class: number | string }
  | { kind: 'seg'; class: number | string }
  | { kind: 'box'; class: number | string; box: Box };

export const TARGET_FORMS = "a class ('3', or a name from --labels), 'seg:<class>' (segmentation) or 'box:<class>@x1,y1,x2,y2' (detection, box corners in input pixels)";

export const BOX_FORMATS: readonly BoxFormat[] = ['yolov8', 'yolov5', 'torchvision'];

/** A class as typed: an index, or a name (kept as text). */
function classPart(text: string, form: string, value: string): number | string {
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError(`--target '${value}' names no class; ${form} takes ${TARGET_FORMS}`);
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    if (!Number.isSafeInteger(n)) throw new UsageError(`--target '${value}': class ${trimmed} is not an index; accepted: ${TARGET_FORMS}`);
    return n;
  }
  return trimmed;
}

/** Parse --target. A form that starts with 'seg:' or 'box:' but is malformed is a UsageError naming the accepted forms. */
export function parseTargetOption(value: string | undefined): TargetOption | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError(`--target takes ${TARGET_FORMS} (got '')`);
  const lower = value.trimStart().toLowerCase();
  if (lower.startsWith('seg:')) return { kind: 'seg', class: classPart(value.trimStart().slice(4), 'seg:<class>', value) };
  if (lower.startsWith('box:')) {
    const body = value.trimStart().slice(4);
    const at = body.lastIndexOf('@');
    const numbers = at < 0 ? [] : body.slice(at + 1).split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s)));
    if (at < 0 || numbers.length !== 4 || numbers.some((v) => !Number.isFinite(v)) || numbers[2]! < numbers[0]! || numbers[3]! < numbers[1]!) {
      throw new UsageError(`--target '${value}' is not a box; box:<class>@x1,y1,x2,y2 takes a class and four numbers with x2 >= x1 and y2 >= y1 (such as box:0@10,20,110,220); accepted forms: ${TARGET_FORMS}`);
    }
    return { kind: 'box', class: classPart(body.slice(0, at), 'box:<class>@x1,y1,x2,y2', value), box: numbers as unknown as Box };
  }
  if (/^\s*\d+\s*$/.test(value)) return { kind: 'class', class: classPart(value, 'a class', value) };
  return { kind: 'class', class: value };
}

/** Parse --box-format: one of BOX_FORMATS (default: detected from the output). */
export function parseBoxFormat(value: string | undefined): BoxFormat | undefined {
  if (value === undefined) return undefined;
  const format = BOX_FORMATS.find((f) => f === value.trim().toLowerCase());
  if (!format) throw new UsageError(`--box-format takes ${BOX_FORMATS.join(', ')} (got '${value}')`);
  return format;
}
