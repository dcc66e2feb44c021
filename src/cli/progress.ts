/**
 * A one-line progress bar on stderr for long work (Score-CAM's masked
 * passes, folders of images). Quiet when stderr is not a terminal, so logs
 * and tests stay clean.
 */
export class ProgressBar {
  private readonly enabled: boolean;
  private lastDraw = 0;

  constructor(private readonly label: string, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = Boolean(stream.isTTY);
  }

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (done < total && now - this.lastDraw < 80) return;
    this.lastDraw = now;
    const width = 30;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    this.stream.write(`\r${this.label} [${bar}] ${done}/${total}`);
    if (done >= total) this.stream.write('\n');
  }
}
