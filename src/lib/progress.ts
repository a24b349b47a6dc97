/**
 * Progress reporting for long work. One reporter per command; steps report rows/bytes done and the
 * reporter renders them: a live line on a terminal (rate and ETA), plain lines elsewhere (CI logs),
 * or structured updates for the REST API (a listener).
 */
export interface ProgressUpdate {
  step: string;
  /** Rows or bytes done and expected, when known. */
  done?: number;
  total?: number;
  unit?: 'rows' | 'bytes' | 'tasks' | 'files';
  message?: string;
  state?: 'running' | 'done' | 'failed' | 'skipped';
}

export interface ProgressReporter {
  update(u: ProgressUpdate): void;
  /** A line that is not progress (a decision, a warning). */
  note(message: string): void;
}

export const silentProgress: ProgressReporter = { update() {}, note() {} };

function fmt(n: number, unit?: ProgressUpdate['unit']): string {
  if (unit === 'bytes') {
    if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GB`;
    if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
    if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KB`;
    return `${n} B`;
  }
  return `${n.toLocaleString('en-US')}${unit ? ` ${unit}` : ''}`;
}

function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** How often a terminal's live line is redrawn for the same step (a new step or its end always is). */
const TTY_REDRAW_MS = 100;

/** Terminal: rewrites one line per step (rate, ETA). Elsewhere: a plain line at most every 2 s per step, plus start and end. */
export function consoleProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const tty = !!stream.isTTY && !process.env.CI;
  const started = new Map<string, number>();
  const lastPrinted = new Map<string, number>();
  let live = false;
  const render = (u: ProgressUpdate) => {
    const now = Date.now();
    if (!started.has(u.step)) started.set(u.step, now);
    const elapsed = (now - started.get(u.step)!) / 1000;
    let text = `${u.step}`;
    if (u.done !== undefined) {
      text += `: ${fmt(u.done, u.unit)}`;
      if (u.total !== undefined)
        text += ` of ${fmt(u.total, u.unit)} (${u.total ? Math.min(100, Math.floor((u.done / u.total) * 100)) : 100}%)`;
      if (elapsed > 0.5 && u.done > 0) {
        const rate = u.done / elapsed;
        text += `, ${fmt(Math.round(rate), u.unit)}/s`;
        if (u.total !== undefined && u.state !== 'done')
          text += `, ETA ${duration((u.total - u.done) / rate)}`;
      }
    }
    if (u.message) text += ` ${u.message}`;
    if (u.state === 'done') text += ` done in ${duration(elapsed)}`;
    if (u.state === 'failed') text += ' FAILED';
    return text;
  };
  // Updates come per piece of work (a bulk load reports every 256 KB: thousands a second), so
  // the throttle is decided before anything is formatted: rendering each one was a visible share of a move's CPU.
  const lastDrawn = new Map<string, number>();
  return {
    update(u) {
      const now = Date.now();
      const final = u.state === 'done' || u.state === 'failed';
      if (tty) {
        if (!final && now - (lastDrawn.get(u.step) ?? 0) < TTY_REDRAW_MS) return;
        lastDrawn.set(u.step, now);
        stream.write(`\r\x1b[2K${render(u)}`);
        live = !final;
        if (!live) stream.write('\n');
        return;
      }
      const last = lastPrinted.get(u.step) ?? 0;
      if (final || !lastPrinted.has(u.step) || now - last >= 2000) {
        lastPrinted.set(u.step, now);
        stream.write(`${render(u)}\n`);
      }
    },
    note(message) {
      if (tty && live) stream.write('\n');
      live = false;
      stream.write(`${message}\n`);
    },
  };
}
