import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@ganpo/models';
import type { EvalResult } from '../evaluate/types.js';
import { readMetrics } from '../util/metrics.js';
import { renderHtml, renderMarkdown, type RunSummary } from './report.js';

/** The files of a run directory that the report and `ganpo eval`/`sample` read. */
export const RUN_FILES = {
  config: 'config.json',
  run: 'run.json',
  metrics: 'metrics.jsonl',
  eval: 'eval.json',
  html: 'report.html',
  md: 'report.md',
} as const;

export interface RunRecord extends RunSummary {
  readonly format: 'ganpo-run/1';
  /** Stage the reference model came from, for labels ('SFT model', 'initial model'). */
  readonly referenceLabel: string;
  readonly dataKind: 'embedded' | 'user';
  /** Embedded-task greedy reward of the SFT model and of the final policy (when measured). */
  readonly learning?: { readonly sftGreedyReward: number; readonly policyGreedyReward: number } | null;
}

const readJson = <T>(path: string): T | null => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null);

export function readRunRecord(runDir: string): RunRecord | null {
  return readJson<RunRecord>(join(runDir, RUN_FILES.run));
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** (Re)writes report.html and report.md from the run's files. Returns their paths. */
export function writeReport(runDir: string): { html: string; md: string } {
  const summary = readRunRecord(runDir);
  if (!summary) throw new Error(`${runDir}: no ${RUN_FILES.run}; not a ganpo run directory`);
  const metrics = readMetrics(join(runDir, RUN_FILES.metrics));
  const evaluation = readJson<EvalResult>(join(runDir, RUN_FILES.eval));
  const config = readJson<unknown>(join(runDir, RUN_FILES.config));
  const input = { summary, metrics, evaluation, config };
  const html = join(runDir, RUN_FILES.html);
  const md = join(runDir, RUN_FILES.md);
  writeFileAtomic(html, renderHtml(input));
  writeFileAtomic(md, renderMarkdown(input));
  return { html, md };
}
