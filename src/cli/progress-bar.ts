/** A one-line progress bar on a terminal; silent when the stream is not a TTY (logs, pipes). */
export class ProgressBar {
  private done = 0;
  private bytes = 0;
  private lastDraw = 0;

  constructor(
    private readonly total: number,
    private readonly totalBytes: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  tick(bytes: number): void {
    this.done++;
    this.bytes += bytes;
    const now = Date.now();
    if (now - this.lastDraw > 100 || this.done === this.total) {
      this.lastDraw = now;
      this.draw();
    }
  }

  finish(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }

  private draw(): void {
    if (!this.stream.isTTY) return;
    const width = 30;
    const share = this.total === 0 ? 1 : this.done / this.total;
    const filled = Math.round(share * width);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    this.stream.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} files, ${mb(this.bytes)}/${mb(this.totalBytes)} MB`,
    );
  }
}
