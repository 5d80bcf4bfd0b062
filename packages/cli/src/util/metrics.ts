import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';

/**
 * `OUT/metrics.jsonl`: one JSON object per logging step, appended and written through to the file as it
 * goes (a crash loses nothing already logged). Names follow TRL (`loss`, `rewards/margins`, ...) plus
 * `ganpo/*` and `eval/*`; every line has `stage` and `step` (the optimizer step within the stage).
 */

export interface MetricRecord {
  readonly stage: string;
  readonly step: number;
  readonly [name: string]: unknown;
}

/** Stage order, for comparing positions across stages. */
const STAGE_ORDER: Record<string, number> = { sft: 0, preference: 1, eval: 2 };

export function positionOf(stage: string, step: number): [number, number] {
  return [STAGE_ORDER[stage] ?? 99, step];
}

const after = (a: [number, number], b: [number, number]) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/** JSON with non-finite numbers kept readable ("NaN", "Infinity") instead of JSON.stringify's null. */
export function metricsLine(record: MetricRecord): string {
  return JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

export class MetricsWriter {
  private fd: number | null;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  write(record: MetricRecord): void {
    if (this.fd === null) throw new Error(`MetricsWriter: ${this.path} is closed`);
    const bytes = Buffer.from(`${metricsLine(record)}\n`, 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
  }

  /** Forces what was written onto the disk (called at checkpoints). */
  sync(): void {
    if (this.fd !== null) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

/** Every record of a metrics file; a torn last line (a crash mid-write) is ignored. */
export function readMetrics(path: string): MetricRecord[] {
  if (!existsSync(path)) return [];
  const out: MetricRecord[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const line of lines) {
    if (line.trim() === '') continue;
    try {
      const rec = JSON.parse(line, (_k, v) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v));
      if (rec && typeof rec === 'object' && typeof rec.stage === 'string' && typeof rec.step === 'number') out.push(rec);
    } catch {
      // A partial last line from an interrupted write.
    }
  }
  return out;
}

/**
 * On resume: drops the records logged after the checkpoint the run resumes from (they will be logged
 * again), so the file reads as if the run had never stopped. Rewritten atomically.
 */
export function truncateMetricsAfter(path: string, stage: string, step: number): number {
  if (!existsSync(path)) return 0;
  const limit = positionOf(stage, step);
  const records = readMetrics(path);
  const kept = records.filter((r) => !after(positionOf(r.stage, r.step), limit));
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, kept.map((r) => `${metricsLine(r)}\n`).join(''));
  renameSync(tmp, path);
  return records.length - kept.length;
}
