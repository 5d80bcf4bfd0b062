import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  byteTokenizer,
  embeddedTask,
  FORMAT_NAMES,
  isFormatName,
  type LineError,
  loadPreferenceDataset,
  toTrlPromptCompletionRows,
  toTrlRows,
  writeEmbeddedTask,
  writeJsonl,
  type DatasetExample,
} from '@ganpo/datasets';
import { DEFAULT_TASK } from '../config/runConfig.js';
import { ConfigError, DataError, UsageError } from '../errors.js';
import { EMBEDDED_TASK_SEED, EMBEDDED_TASK_SIZES, resolveTokenizer } from '../train/data.js';
import { type CliIo, printable } from '../util/io.js';
import type { ValidateFlags, StatsFlags, MakeTaskFlags } from '../config/commandFlags.js';

/** `ganpo data validate|stats|make-task`: look at data before training on it. */

function checkFormat(format: string | undefined): 'auto' | (typeof FORMAT_NAMES)[number] {
  const f = format ?? 'auto';
  if (f === 'auto' || isFormatName(f)) return f;
  throw new ConfigError(`--format: unknown format '${f}'`, [`known formats: auto, ${FORMAT_NAMES.join(', ')}`]);
}

function checkPath(file: string): void {
  if (!existsSync(file)) throw new DataError(`${file} does not exist`);
}

export interface ValidateReport {
  readonly file: string;
  readonly ok: boolean;
  readonly formats: Record<string, string>;
  readonly valid: number;
  readonly invalid: number;
  readonly kinds: Record<string, number>;
  readonly byReason: Record<string, number>;
  readonly errors: readonly { file: string; line: number | null; message: string }[];
  readonly fatal: string | null;
}

/** Reads the whole file (skip mode, so every bad line is counted) and reports; exit 2 if any line is bad. */
export async function validateCommand(file: string, flags: ValidateFlags, io: CliIo): Promise<number> {
  checkPath(file);
  const maxErrors = flags.maxErrors ?? 50;
  const data = await loadPreferenceDataset(file, { format: checkFormat(flags.format), mode: 'skip', maxErrors: Math.max(maxErrors, 1) });
  const fatal = data.errors.find((e: LineError) => e.fatal) ?? null;
  const kinds: Record<string, number> = {};
  for (const e of data.examples) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
  const report: ValidateReport = {
    file,
    ok: data.counts.invalid === 0 && fatal === null && data.examples.length > 0,
    formats: data.formats,
    valid: data.counts.valid,
    invalid: data.counts.invalid,
    kinds,
    byReason: data.counts.byReason,
    errors: data.errors.slice(0, maxErrors).map((e) => ({ file: e.file, line: e.line, message: e.message })),
    fatal: fatal?.message ?? null,
  };
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const lines: string[] = [];
    const fmts = [...new Set(Object.values(report.formats))];
    const empty = report.valid + report.invalid === 0 && fatal === null;
    lines.push(`${file}: ${empty ? 'empty (no rows)' : fmts.length > 0 ? `format ${fmts.join(', ')}` : 'no format detected'}`);
    lines.push(`  valid rows:   ${report.valid}${Object.keys(kinds).length > 0 ? ` (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')})` : ''}`);
    lines.push(`  invalid rows: ${report.invalid}`);
    if (fatal) lines.push(`  fatal: ${fatal.message}`);
    if (report.invalid > 0) {
      lines.push('  errors by reason:');
      for (const [reason, n] of Object.entries(report.byReason).sort((a, b) => b[1] - a[1])) lines.push(`    ${String(n).padStart(6)} × ${reason}`);
      lines.push(`  errors by line${data.counts.invalid > report.errors.length ? ` (first ${report.errors.length})` : ''}:`);
      for (const e of report.errors) if (e.line !== null) lines.push(`    ${e.message}`);
    }
    lines.push(report.ok ? 'ok' : 'INVALID');
    // Lines quote the file: a binary file's control bytes are shown escaped, never sent to the terminal.
    io.stdout.write(`${lines.map(printable).join('\n')}\n`);
  }
  return report.ok ? 0 : 2;
}

// ---------------------------------------------------------------------------------------------------------

function stats(xs: number[]): { mean: number; min: number; median: number; p95: number; max: number } {
  if (xs.length === 0) return { mean: 0, min: 0, median: 0, p95: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: s[0], median: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

/** Counts, lengths in characters and tokens, duplicates and length bias of a data file. */
export async function statsCommand(file: string, flags: StatsFlags, io: CliIo): Promise<number> {
  checkPath(file);
  const mode = flags.dataMode ?? 'skip';
  const data = await loadPreferenceDataset(file, { format: checkFormat(flags.format), mode, maxErrors: 5 });
  const fatal = data.errors.find((e) => e.fatal);
  if (fatal) throw new DataError(fatal.message);
  if (mode === 'strict' && data.errors.length > 0) throw new DataError(data.errors[0].message, [], 'use --data-mode skip to count past bad lines');
  const tokenizer = flags.tokenizer ? resolveTokenizer(flags.tokenizer, undefined, null) : byteTokenizer();
  const ex: DatasetExample[] = data.examples;
  const pairs = ex.filter((e) => e.kind === 'pair') as Extract<DatasetExample, { kind: 'pair' }>[];
  const completions = ex.filter((e) => e.kind !== 'pair') as Extract<DatasetExample, { kind: 'sft' | 'unpaired' }>[];
  const tok = (s: string) => tokenizer.encode(s).length;
  const prompts = ex.map((e) => e.prompt);
  const distinctPrompts = new Set(prompts).size;
  const result = {
    file,
    formats: data.formats,
    rows: ex.length,
    invalidRows: data.counts.invalid,
    pairs: pairs.length,
    completions: completions.length,
    distinctPrompts,
    duplicatePromptRows: prompts.length - distinctPrompts,
    tokenizer: tokenizer.kind,
    promptChars: stats(prompts.map((p) => p.length)),
    promptTokens: stats(prompts.map(tok)),
    chosenChars: stats(pairs.map((p) => p.chosen.length)),
    rejectedChars: stats(pairs.map((p) => p.rejected.length)),
    chosenTokens: stats(pairs.map((p) => tok(p.chosen))),
    rejectedTokens: stats(pairs.map((p) => tok(p.rejected))),
    completionTokens: stats(completions.map((c) => tok(c.completion))),
    /** Length bias: how often the chosen response is the longer one (DPO tends to learn "longer is better" from this). */
    chosenLongerFraction: pairs.length > 0 ? pairs.filter((p) => p.chosen.length > p.rejected.length).length / pairs.length : null,
    sequenceTokens: stats([...pairs.flatMap((p) => [tok(p.prompt) + tok(p.chosen) + 2, tok(p.prompt) + tok(p.rejected) + 2]), ...completions.map((c) => tok(c.prompt) + tok(c.completion) + 2)]),
  };
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const f = (s: ReturnType<typeof stats>) => `mean ${s.mean.toFixed(1)}, median ${s.median}, p95 ${s.p95}, min ${s.min}, max ${s.max}`;
  const lines = [
    `${file}: ${[...new Set(Object.values(result.formats))].join(', ') || 'no valid rows'}`,
    `  rows ${result.rows} (${result.pairs} pairs, ${result.completions} completions)${result.invalidRows > 0 ? `, ${result.invalidRows} invalid rows skipped` : ''}`,
    `  prompts: ${result.distinctPrompts} distinct${result.duplicatePromptRows > 0 ? `, ${result.duplicatePromptRows} rows repeat a prompt` : ''}`,
    `  prompt tokens (${result.tokenizer}):    ${f(result.promptTokens)}`,
  ];
  if (pairs.length > 0) {
    lines.push(`  chosen tokens:   ${f(result.chosenTokens)}`);
    lines.push(`  rejected tokens: ${f(result.rejectedTokens)}`);
    lines.push(`  chosen is longer in ${(100 * (result.chosenLongerFraction ?? 0)).toFixed(1)}% of pairs${(result.chosenLongerFraction ?? 0.5) > 0.65 ? ' (length bias: DPO may learn to favour longer answers)' : ''}`);
  }
  if (completions.length > 0) lines.push(`  completion tokens: ${f(result.completionTokens)}`);
  lines.push(`  sequence tokens (BOS + prompt + response + EOS): ${f(result.sequenceTokens)}; --max-length cuts longer ones`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------------------

/** Writes the embedded task: one split as TRL JSONL (--out FILE), or all four files (--out-dir DIR). */
export async function makeTaskCommand(flags: MakeTaskFlags, io: CliIo): Promise<number> {
  if (!flags.out && !flags.outDir) throw new UsageError('ganpo data make-task needs --out FILE (one split) or --out-dir DIR (all splits)');
  const seed = flags.seed ?? EMBEDDED_TASK_SEED;
  const split = flags.split ?? 'train';
  const task = embeddedTask({ ...DEFAULT_TASK, ...EMBEDDED_TASK_SIZES, seed });
  const written: Record<string, string> = {};
  if (flags.outDir) {
    Object.assign(written, await writeEmbeddedTask(flags.outDir, task));
  }
  if (flags.out) {
    mkdirSync(dirname(flags.out), { recursive: true });
    const rows =
      split === 'train' ? toTrlRows(task.trainPairs)
      : split === 'eval' ? toTrlRows(task.evalPairs)
      : split === 'sft' ? toTrlPromptCompletionRows(task.sft)
      : toTrlPromptCompletionRows(task.heldOut.map((h) => ({ prompt: h.prompt, completion: h.answer, meta: { task: h.task } })));
    await writeJsonl(flags.out, rows);
    written[split] = flags.out;
  }
  if (flags.json) io.stdout.write(`${JSON.stringify({ seed, files: written }, null, 2)}\n`);
  else for (const [k, v] of Object.entries(written)) io.stdout.write(`wrote ${k}: ${v}\n`);
  return 0;
}
