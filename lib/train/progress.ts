/**
 * A live progress bar for training, updated in place as tqdm does in Python notebooks:
 *
 *   epoch 12/50 ███████▌············  24%  loss 0.123456  acc  95.1%  val_acc  94.0%  00:03<00:09
 *
 * It redraws one line with a carriage return (the Jupyter notebook and a terminal both overwrite the line;
 * the exported page keeps the last state, see tools/nbexport.py), at most every `intervalMs`, and only once
 * the work has taken more than `delayMs` (a quick training prints nothing). `end()` leaves the final state
 * as one line. It draws only where someone watches: in a Jupyter kernel or on a terminal (TTY); in scripts
 * piped to a file and in tests it stays silent.
 */

/** The numbers the bar shows (any subset). */
export interface ProgressStats {
  loss?: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
}

export interface ProgressBarOptions {
  /** Number of steps (epochs). */
  total: number;
  /** Label before the count (default "epoch"). */
  label?: string;
  /** Where the text goes (default process.stdout.write). */
  write?: (s: string) => void;
  /** Draw at all (default: in a Jupyter kernel or on a TTY). */
  live?: boolean;
  /** Characters of the bar itself (default 20). */
  width?: number;
  /** Least time between two redraws, ms (default 200). */
  intervalMs?: number;
  /** Draw only once this much time has passed, ms (default 300). */
  delayMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** True in a Jupyter kernel (tslab) or when stdout is a terminal. */
export function watched(): boolean {
  if (process.env.JPY_PARENT_PID || process.argv.includes("--config-path")) return true;
  return !!process.stdout.isTTY;
}

/** "mm:ss" (or "h:mm:ss") for a duration in seconds. */
export function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mmss = `${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** The bar: `width` cells, full blocks plus an eighth block for the fraction, dots for the rest. */
export function bar(fraction: number, width = 20): string {
  const f = Math.min(1, Math.max(0, fraction));
  const cells = f * width;
  const full = Math.floor(cells);
  const part = full < width ? EIGHTHS[Math.floor((cells - full) * 8)] : "";
  return "█".repeat(full) + part + "·".repeat(width - full - (part ? 1 : 0));
}

const fmtLoss = (v: number) => (Math.abs(v) >= 1e-4 && Math.abs(v) < 1e4 ? v.toFixed(6) : v.toExponential(3));
const fmtPct = (v: number) => `${(100 * v).toFixed(1).padStart(5)}%`;

/** One line of the bar: done of total (a fraction of a step counts), the numbers, elapsed<left. */
export function progressText(done: number, total: number, stats: ProgressStats, elapsedMs: number, label = "epoch", width = 20): string {
  const w = String(total).length;
  const parts = [`${label} ${String(Math.min(total, Math.floor(done))).padStart(w)}/${total}`, bar(done / total, width), `${String(Math.floor((100 * done) / total)).padStart(3)}%`];
  if (stats.loss !== undefined) parts.push(`loss ${fmtLoss(stats.loss)}`);
  if (stats.accuracy !== undefined) parts.push(`acc ${fmtPct(stats.accuracy)}`);
  if (stats.valLoss !== undefined) parts.push(`val_loss ${fmtLoss(stats.valLoss)}`);
  if (stats.valAccuracy !== undefined) parts.push(`val_acc ${fmtPct(stats.valAccuracy)}`);
  const elapsed = elapsedMs / 1000;
  const left = done > 0 ? (elapsed * (total - done)) / done : NaN;
  parts.push(done >= total ? clock(elapsed) : `${clock(elapsed)}<${clock(left)}`);
  return parts.join("  ");
}

export class ProgressBar {
  private readonly write: (s: string) => void;
  private readonly now: () => number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private shownWidth = 0;
  private done = 0;
  private stats: ProgressStats = {};
  private ended = false;
  readonly live: boolean;

  constructor(private readonly opts: ProgressBarOptions) {
    if (!Number.isInteger(opts.total) || opts.total < 1) throw new Error(`ProgressBar: total must be a positive integer, got ${opts.total}`);
    this.write = opts.write ?? ((s) => void process.stdout.write(s));
    this.now = opts.now ?? (() => performance.now());
    this.live = opts.live ?? watched();
    this.start = this.now();
  }

  /** Whether the bar is on screen now. */
  get shown(): boolean {
    return this.shownWidth > 0;
  }

  /** Progress within the current step (0..1 of step `done + 1`), e.g. after each mini-batch. */
  tick(fraction: number): void {
    this.done = Math.floor(this.done) + Math.min(0.999, Math.max(0, fraction));
    this.draw(false);
  }

  /** A step (epoch) finished, with its numbers. */
  step(done: number, stats: ProgressStats = {}): void {
    this.done = done;
    this.stats = stats;
    this.draw(false);
  }

  /** Prints a line above the bar (the bar is redrawn below it at the next update). */
  log(line: string, print: (l: string) => void): void {
    if (this.shown) this.write("\r" + " ".repeat(this.shownWidth) + "\r");
    this.shownWidth = 0;
    print(line);
  }

  /** Leaves the final state as one line (only if the bar was drawn). */
  end(): void {
    if (this.ended) return;
    if (this.live && (this.shown || this.now() - this.start >= (this.opts.delayMs ?? 300))) {
      this.draw(true);
      this.write("\n");
    }
    this.ended = true;
    this.shownWidth = 0;
  }

  private draw(force: boolean): void {
    if (!this.live || this.ended) return;
    const t = this.now();
    if (!force && (t - this.start < (this.opts.delayMs ?? 300) || t - this.lastDraw < (this.opts.intervalMs ?? 200))) return;
    this.lastDraw = t;
    const text = progressText(this.done, this.opts.total, this.stats, t - this.start, this.opts.label, this.opts.width);
    // Pad over a longer previous line: plain spaces, no terminal escapes (the notebook would show them).
    this.write("\r" + text.padEnd(this.shownWidth));
    this.shownWidth = Math.max(text.length, 1);
  }
}
