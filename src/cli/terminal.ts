/**
 * What the command prints. Names come from model files, label files and
 * file names, so every line is printed with control characters escaped: an
 * ONNX node named "\x1b]0;pwned\x07" must not set the terminal's title.
 *
 * One status line (a progress bar) lives at the bottom of a terminal, on
 * stderr; every other line clears it first and redraws it after, so a bar
 * and an image's lines never share a line. Without a terminal on stderr
 * there is no bar (logs and pipes stay clean), unless TINYCAM_PROGRESS=1.
 */

/**
 * `text` with C0 and C1 control characters, DEL and the bidirectional
 * overrides escaped as \xNN or \u{NNNN}, so it prints as what it is. Tabs
 * are kept; a newline is escaped (one name, one line).
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** Each line of `text` made printable (the newlines between lines kept). */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class Terminal {
  readonly #out: Stream;
  readonly #err: Stream;
  readonly #bars: boolean;
  #status = '';
  #lastDraw = 0;

  constructor(out: Stream = process.stdout, err: Stream = process.stderr, bars = Boolean(err.isTTY) || process.env['TINYCAM_PROGRESS'] === '1') {
    this.#out = out;
    this.#err = err;
    this.#bars = bars;
  }

  /** A line on stdout (made printable), never on the same line as the bar. */
  log(line: string): void {
    this.#around(() => this.#out.write(`${printableLines(line)}\n`));
  }

  /** A line on stderr (made printable), never on the same line as the bar. */
  error(line: string): void {
    this.#around(() => this.#err.write(`${printableLines(line)}\n`));
  }

  /**
   * Show `label [####....] done/total` as the status line (throttled to
   * about 12 redraws a second, except the first and the last).
   */
  progress(label: string, done: number, total: number): void {
    if (!this.#bars) return;
    const now = Date.now();
    if (this.#status && done > 0 && done < total && now - this.#lastDraw < 80) return;
    this.#lastDraw = now;
    const width = 30;
    const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
    this.#status = `${printable(label)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
    this.#err.write(`\r\x1b[K${this.#status}`);
  }

  /** Show `line` as the status line (made printable). */
  status(line: string): void {
    if (!this.#bars) return;
    this.#status = printable(line);
    this.#err.write(`\r\x1b[K${this.#status}`);
  }

  /** Remove the status line. */
  clear(): void {
    if (!this.#bars || !this.#status) return;
    this.#err.write('\r\x1b[K');
    this.#status = '';
  }

  #around(write: () => void): void {
    if (this.#bars && this.#status) this.#err.write('\r\x1b[K');
    write();
    if (this.#bars && this.#status) this.#err.write(this.#status);
  }
}
