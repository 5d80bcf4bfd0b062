import cliProgress from 'cli-progress';

/**
 * Progress on long loops. On a terminal: a live bar (cli-progress) with the step, throughput, loss and ETA.
 * Not on a terminal (CI logs, pipes): a plain line every `lineEvery` steps or `lineSeconds` seconds,
 * whichever comes first, and one at the end. `quiet`: nothing. Messages printed with `log` never tear a bar.
 */

export type ProgressMode = 'bar' | 'lines' | 'quiet';

export interface ProgressOptions {
  readonly mode: ProgressMode;
  /** Where bars and lines go (stderr by default: stdout stays clean for `--json`). */
  readonly stream?: NodeJS.WritableStream;
  /** Lines mode: at most one line per this many seconds (default 10) ... */
  readonly lineSeconds?: number;
  /** ... and at least one per this fraction of the total (default 0.1). */
  readonly lineFraction?: number;
  /** A clock, for tests. */
  readonly now?: () => number;
}

export interface ProgressFields {
  /** e.g. `loss`, `tok/s`: shown in insertion order. */
  readonly [name: string]: number | string | undefined;
}

export interface ProgressTask {
  /** Sets the number of items done (absolute) and the fields shown. */
  update(done: number, fields?: ProgressFields): void;
  /** Ends the bar (or prints the last line) at the count last set: a stopped task does not claim 100%. */
  done(fields?: ProgressFields): void;
}

export function progressModeFor(stream: { isTTY?: boolean }, quiet: boolean, env: NodeJS.ProcessEnv = process.env): ProgressMode {
  if (quiet) return 'quiet';
  if (env.GANPO_PROGRESS === 'lines' || env.CI) return 'lines';
  return stream.isTTY ? 'bar' : 'lines';
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export function formatField(value: number | string | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return value.toExponential(2);
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(a >= 100 ? 1 : 4);
}

const fieldsText = (fields: ProgressFields | undefined): string =>
  Object.entries(fields ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${formatField(v)}`)
    .join(' | ');

export class Progress {
  readonly mode: ProgressMode;
  private readonly stream: NodeJS.WritableStream;
  private readonly now: () => number;
  private bar: cliProgress.SingleBar | null = null;

  constructor(private readonly options: ProgressOptions) {
    this.mode = options.mode;
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? (() => performance.now() / 1000);
  }

  /** Prints a message line (above the bar on a terminal). Suppressed in quiet mode unless `force`. */
  log(line: string, force = false): void {
    if (this.mode === 'quiet' && !force) return;
    if (this.bar) {
      // Clear the bar's line, print the message, redraw the bar below it.
      this.stream.write(`\r\x1b[2K${line}\n`);
      (this.bar as unknown as { render(force: boolean): void }).render(true);
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  start(label: string, total: number, unit = 'steps'): ProgressTask {
    const started = this.now();
    if (this.mode === 'quiet') return { update: () => {}, done: () => {} };
    if (this.mode === 'bar') {
      const bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: `${label} |{bar}| {value}/{total} ${unit} | {fields} | ETA {eta_formatted}`,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
          fps: 5,
          barCompleteChar: '\u2588',
          barIncompleteChar: '\u2591',
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar = bar;
      bar.start(total, 0, { fields: '' });
      let current = 0;
      return {
        update: (done, fields) => {
          current = done;
          bar.update(done, { fields: fieldsText(fields) });
        },
        done: (fields) => {
          bar.update(current, { fields: fieldsText(fields) });
          bar.stop();
          if (this.bar === bar) this.bar = null;
        },
      };
    }
    const every = Math.max(1, Math.round(total * (this.options.lineFraction ?? 0.1)));
    const seconds = this.options.lineSeconds ?? 10;
    let lastLine = started;
    let lastDone = 0;
    let current = 0;
    const line = (done: number, fields?: ProgressFields, final = false) => {
      const elapsed = this.now() - started;
      const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
      const eta = done > 0 && !final ? formatDuration((elapsed / done) * (total - done)) : null;
      const parts = [`${label} ${done}/${total} ${unit} (${pct}%)`, fieldsText(fields), final ? `took ${formatDuration(elapsed)}` : `ETA ${eta ?? '?'}`];
      this.stream.write(`${parts.filter((p) => p !== '').join(' | ')}\n`);
      lastLine = this.now();
      lastDone = done;
    };
    return {
      update: (done, fields) => {
        current = done;
        if (done - lastDone >= every || this.now() - lastLine >= seconds) line(done, fields);
      },
      done: (fields) => line(current, fields, true),
    };
  }

  /** Stops any live bar (e.g. before printing an error). */
  close(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
  }
}
