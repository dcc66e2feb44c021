import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { UsageError, type ExplainArgs } from './args.js';

/** Where each image's picture (and map) goes, decided and checked before any work is done. */
export interface PlannedOutput {
  image: string;
  picture: string;
  format: 'png' | 'jpeg';
  map?: string;
}

const FORMATS: ReadonlyMap<string, 'png' | 'jpeg'> = new Map([['.png', 'png'], ['.jpg', 'jpeg'], ['.jpeg', 'jpeg']]);

/** The picture's format from its extension: .png, .jpg or .jpeg; anything else is a usage error. */
export function formatOf(path: string, option: string): 'png' | 'jpeg' {
  const format = FORMATS.get(extname(path).toLowerCase());
  if (!format) {
    throw new UsageError(`${option} '${path}' must end in .png, .jpg or .jpeg (the extension chooses the format)`);
  }
  return format;
}

/**
 * The outputs of every image. One image: --out as given (default
 * <image file name>.<method>.png here). A folder: --out is a folder, and each
 * picture is named after the whole image file name, so cat.png and cat.jpg
 * do not write the same file. --map-out follows the same rule.
 *
 * Refused: an output that is one of the inputs (--image, --model,
 * --labels), two images writing one file, and an existing file unless
 * --force.
 */
export function planOutputs(args: ExplainArgs, images: readonly string[], folder: boolean): PlannedOutput[] {
  const fileName = (image: string, ext: string) => `${basename(image)}.${args.method.replace(/\W/g, '')}${ext}`;
  if (folder) {
    for (const [option, value] of [['--out', args.out], ['--map-out', args.mapOut]] as const) {
      if (value !== undefined && existsSync(value) && !statSync(value).isDirectory()) {
        throw new UsageError(`${option} '${value}' is a file; with a folder of images ${option} names a folder`);
      }
    }
  }
  const plan = images.map((image): PlannedOutput => {
    if (folder) {
      return {
        image,
        picture: join(args.out ?? '.', fileName(image, '.png')),
        format: 'png',
        ...(args.mapOut !== undefined ? { map: join(args.mapOut, fileName(image, '.safetensors')) } : {}),
      };
    }
    const picture = args.out ?? fileName(image, '.png');
    return { image, picture, format: formatOf(picture, '--out'), ...(args.mapOut !== undefined ? { map: args.mapOut } : {}) };
  });
  if (!folder && args.mapOut !== undefined && !/\.safetensors$/i.test(args.mapOut)) {
    throw new UsageError(`--map-out '${args.mapOut}' must end in .safetensors`);
  }

  const inputs = new Map<string, string>();
  const noteInput = (path: string, option: string) => inputs.set(identity(path), `${option} '${path}'`);
  noteInput(args.model, '--model');
  if (args.labels !== undefined) noteInput(args.labels, '--labels');
  for (const image of images) noteInput(image, '--image');
  const written = new Map<string, string>();
  const existing: string[] = [];
  for (const p of plan) {
    for (const out of [p.picture, p.map]) {
      if (out === undefined) continue;
      const id = identity(out);
      const input = inputs.get(id);
      if (input) throw new UsageError(`the output '${out}' would overwrite the input ${input}; choose another --out or --map-out`);
      const other = written.get(id);
      if (other !== undefined) throw new UsageError(`'${p.image}' and '${other}' would both write '${out}'`);
      written.set(id, p.image);
      if (existsSync(out)) existing.push(out);
    }
  }
  if (existing.length && !args.force) {
    const shown = existing.slice(0, 3).map((f) => `'${f}'`).join(', ') + (existing.length > 3 ? ` and ${existing.length - 3} more` : '');
    throw new UsageError(`${shown} already exist${existing.length === 1 ? 's' : ''}; pass --force to replace ${existing.length === 1 ? 'it' : 'them'}, or choose another --out`);
  }
  return plan;
}

/** A path's identity: its real path when it exists (links and '..' resolved), else its absolute path. */
function identity(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
