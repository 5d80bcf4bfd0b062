import { cpus } from 'node:os';
import type { BenchFlags } from '../config/commandFlags.js';
import { UsageError } from '../errors.js';
import { selectBackend } from '../train/backend.js';
import type { CliIo } from '../util/io.js';
import { BENCH_MODES, type BenchMode, type BenchShape, buildStep, forwardFlops, PHASES, type Phase, REFERENCE_SHAPE } from './benchStep.js';

// ganpo bench: the training step of each mode timed phase by phase (see benchStep.ts for the step itself).

/**
 * Named shapes. `reference` is the step the TF.js and PyTorch peers implement; `small` and `tiny` take the
 * policy dimensions of the model presets of the same name (discriminators and batch as in `reference`,
 * except the sequence length, which is the preset's context).
 */
export const BENCH_PRESETS: Record<string, BenchShape> = {
  reference: REFERENCE_SHAPE,
  small: { ...REFERENCE_SHAPE, width: 96, layers: 2, heads: 4, mlp: 384, seq: 96 },
  tiny: { ...REFERENCE_SHAPE, width: 16, layers: 2, heads: 2, mlp: 64, seq: 16, discWidth: 16, discHeads: 2, discFf: 64 },
};

export interface BenchRow {
  readonly name: BenchMode;
  /** Median ms/step (the figure compared with the peers). */
  readonly msPerStep: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly tokensPerSecond: number;
  /** Analytic matmul GFLOP of one step, and GFLOP / median time. */
  readonly gflop: number;
  readonly gflopPerSecond: number;
  /** Median ms of each phase over the timed steps. */
  readonly phases: Partial<Record<Phase, number>>;
  /** Peak resident set size of the process so far (after this mode's steps), MiB. */
  readonly peakRssMiB: number;
  readonly losses: number[];
  readonly steps: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The shape the flags ask for: a preset, then any of --width/--layers/--heads/--seq/--pairs over it. */
export function benchShape(flags: BenchFlags): { preset: string; shape: BenchShape } {
  const preset = flags.preset ?? flags.model ?? 'reference';
  const base = BENCH_PRESETS[preset];
  if (!base) throw new UsageError(`--preset: expected one of ${Object.keys(BENCH_PRESETS).join(', ')}, got '${preset}'`);
  const width = flags.width ?? base.width;
  const heads = flags.heads ?? base.heads;
  if (width % heads !== 0) throw new UsageError(`--width ${width} is not divisible by --heads ${heads}`);
  const shape: BenchShape = {
    ...base,
    width,
    heads,
    mlp: flags.width === undefined ? base.mlp : 4 * width,
    layers: flags.layers ?? base.layers,
    seq: flags.seq ?? base.seq,
    pairs: flags.pairs ?? flags.batchSize ?? base.pairs,
  };
  return { preset, shape };
}

function parseModes(v: string | undefined): BenchMode[] {
  if (v === undefined) return [...BENCH_MODES];
  const modes = v.split(',').map((m) => m.trim());
  for (const m of modes) {
    if (!BENCH_MODES.includes(m as BenchMode)) throw new UsageError(`--modes: expected a comma-separated list of ${BENCH_MODES.join(', ')}, got '${m}'`);
  }
  return modes as BenchMode[];
}

/** Analytic matmul FLOPs of one discriminator forward over `rows` latent sequences. */
function discFlops(s: BenchShape, rows: number): number {
  const tokens = rows * s.seq;
  const w = s.discWidth;
  return 2 * tokens * s.width * w + 2 * tokens * (4 * w * w + 2 * w * s.discFf) + 4 * rows * s.seq * s.seq * w + 2 * rows * (w * w + w);
}

/**
 * Analytic matmul FLOPs of one step (backward ≈ 2× forward): SFT = policy forward + backward; DPO adds the
 * reference forward; GANPO adds 6 discriminator forwards of `pairs` rows with their backward, and the two
 * adversarial forwards with their input-gradient backward.
 */
export function stepFlops(s: BenchShape, mode: BenchMode): number {
  const f = forwardFlops(s, 2 * s.pairs);
  if (mode === 'sft') return 3 * f;
  const dpoFlops = 4 * f;
  return mode === 'dpo' ? dpoFlops : dpoFlops + 3 * discFlops(s, 6 * s.pairs) + 2 * discFlops(s, 2 * s.pairs);
}

async function runMode(shape: BenchShape, mode: BenchMode, warmup: number, steps: number): Promise<BenchRow> {
  const step = buildStep(shape, mode);
  const times: number[] = [];
  const phaseTimes: Partial<Record<Phase, number[]>> = {};
  const losses: number[] = [];
  for (let k = 0; k < warmup + steps; k++) {
    const t0 = performance.now();
    const out = step();
    const dt = performance.now() - t0;
    if (k >= warmup) {
      times.push(dt);
      losses.push(out.loss);
      for (const [p, ms] of Object.entries(out.phases) as [Phase, number][]) (phaseTimes[p] ??= []).push(ms);
    }
    await new Promise((r) => setImmediate(r)); // let signals and pending output through between steps
  }
  const ms = median(times);
  const gflop = stepFlops(shape, mode) / 1e9;
  return {
    name: mode,
    msPerStep: ms,
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    tokensPerSecond: (2 * shape.pairs * shape.seq * 1000) / ms,
    gflop,
    gflopPerSecond: gflop / (ms / 1000),
    phases: Object.fromEntries(PHASES.filter((p) => phaseTimes[p]).map((p) => [p, median(phaseTimes[p]!)])),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    losses,
    steps,
  };
}

/** Step time of SFT, DPO and DPO+GANPO on the reference step (or another shape): median/min/max, tokens/s, phases, peak RSS. */
export async function benchCommand(flags: BenchFlags, io: CliIo): Promise<number> {
  const { preset, shape } = benchShape(flags);
  const modes = parseModes(flags.modes);
  const steps = flags.steps ?? 5;
  const warmup = flags.warmup ?? 2;
  const backend = selectBackend(flags.backend ?? 'auto');
  const rows: BenchRow[] = [];
  for (const mode of modes) rows.push(await runMode(shape, mode, warmup, steps));
  const dpo = rows.find((r) => r.name === 'dpo');
  const ganpo = rows.find((r) => r.name === 'dpo+ganpo');
  const ganpoOverDpo = dpo && ganpo ? ganpo.msPerStep / dpo.msPerStep : null;
  const result = {
    backend,
    preset,
    shape,
    steps,
    warmup,
    rows,
    ganpoOverDpo,
    ganpoOverhead: ganpoOverDpo === null ? null : ganpoOverDpo - 1,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' },
  };
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(`${formatBench(result).join('\n')}\n`);
  return 0;
}

function formatBench(r: {
  backend: { name: string; detail: string };
  preset: string;
  shape: BenchShape;
  steps: number;
  warmup: number;
  rows: BenchRow[];
  ganpoOverDpo: number | null;
  machine: { cores: number; cpu: string };
}): string[] {
  const s = r.shape;
  const num = (x: number, digits = 1) => x.toFixed(digits);
  const phaseCols = PHASES.filter((p) => r.rows.some((row) => row.phases[p] !== undefined));
  const lines = [
    `backend ${r.backend.name} (${r.backend.detail}); ${r.machine.cores} × ${r.machine.cpu}`,
    `preset ${r.preset}: policy d ${s.width}, ${s.layers} layers, ${s.heads} heads, MLP ${s.mlp}, vocab ${s.vocab}; ${s.pairs} pairs × ${s.seq} tokens; ` +
      `discriminators d ${s.discWidth}, ${s.discHeads} heads, FFN ${s.discFf}; median of ${r.steps} steps after ${r.warmup} warm-up`,
    '',
    `${'mode'.padEnd(11)}${'median ms'.padStart(11)}${'min'.padStart(9)}${'max'.padStart(9)}${'tokens/s'.padStart(10)}${'GFLOP/s'.padStart(9)}${'peak RSS MiB'.padStart(14)}`,
    ...r.rows.map(
      (row) =>
        `${row.name.padEnd(11)}${num(row.msPerStep).padStart(11)}${num(row.minMs).padStart(9)}${num(row.maxMs).padStart(9)}` +
        `${Math.round(row.tokensPerSecond).toString().padStart(10)}${num(row.gflopPerSecond).padStart(9)}${Math.round(row.peakRssMiB).toString().padStart(14)}`,
    ),
    '',
    'median ms per phase:',
    `${'mode'.padEnd(11)}${phaseCols.map((p) => p.padStart(Math.max(10, p.length + 2))).join('')}`,
    ...r.rows.map((row) => `${row.name.padEnd(11)}${phaseCols.map((p) => (row.phases[p] === undefined ? '–' : num(row.phases[p]!)).padStart(Math.max(10, p.length + 2))).join('')}`),
  ];
  if (r.ganpoOverDpo !== null) lines.push('', `GANPO / DPO step time: ${r.ganpoOverDpo.toFixed(2)}`);
  return lines;
}
