import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { TinycamError } from '../tensor/errors.js';

/**
 * Reading files a user or a model names, safely: only regular files (a
 * device, a FIFO or a folder is refused before a byte is read: /dev/zero
 * would never end, a FIFO would block the open), and only the bytes asked.
 */

/** A file that is not a regular file, larger than the caller accepts, or read outside its bytes. */
export class FileError extends TinycamError {
  static override readonly typeName: string = 'FileError';
  constructor(message: string) {
    super('E_FILE', message);
  }
}

export interface OpenedFile {
  readonly path: string;
  readonly size: number;
  /** `length` bytes at `offset` (both checked against the size). */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

/**
 * Open a regular file for reading. O_NONBLOCK makes opening a FIFO return at
 * once (it is then refused as not regular); the kind is checked on the
 * opened descriptor, so a file swapped after a check cannot slip through.
 */
export function openRegularFile(path: string, what: string): OpenedFile {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new FileError(`${what} '${path}' is not a regular file (${kindOf(stat)}); give a file`);
    }
    const size = stat.size;
    return {
      path,
      size,
      read(offset: number, length: number): Uint8Array {
        if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= size)) {
          throw new FileError(`${what} '${path}': bytes ${offset}..${offset + length} are outside its ${size} bytes`);
        }
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, out, done, length - done, offset + done);
          if (n === 0) throw new FileError(`${what} '${path}' ended after ${offset + done} bytes while being read (it changed?)`);
          done += n;
        }
        return out;
      },
      close: () => closeSync(fd),
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** The whole of a regular file, refusing one larger than `maxBytes`. */
export function readRegularFile(path: string, what: string, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
  const file = openRegularFile(path, what);
  try {
    if (file.size > maxBytes) {
      throw new FileError(`${what} '${path}' has ${file.size.toLocaleString('en-US')} bytes; more than the ${maxBytes.toLocaleString('en-US')} accepted`);
    }
    return file.read(0, file.size);
  } finally {
    file.close();
  }
}

function kindOf(stat: { isDirectory(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}
