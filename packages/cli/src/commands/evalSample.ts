import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseTaskPrompt, rewardBreakdown, type Tokenizer } from '@ganpo/datasets';
import type { CausalLM } from '@ganpo/models';
import { freezeReference } from '@ganpo/models';
import { preferenceObjective } from '@ganpo/objectives';
import { resolveRun } from '../config/resolve.js';
import { decodeRunConfig, type RunConfig } from '../config/runConfig.js';
import { ConfigError, UsageError } from '../errors.js';
import { evaluate, fitPrompt, sampleResponses } from '../evaluate/evaluate.js';
import type { EvalResult } from '../evaluate/types.js';
import { fmtNum, preferenceTable, samplingTable } from '../report/report.js';
import { RUN_FILES, readRunRecord, writeJson, writeReport } from '../report/write.js';
import { selectBackend } from '../train/backend.js';
import { readLatest } from '../train/checkpoints.js';
import { loadRunData } from '../train/data.js';
import { loadModelDir } from '../train/model.js';
import { lockRunDir } from '../train/runDir.js';
import { ktoOnPairs } from '../train/stages/kto.js';
import { lengthLimitOf } from '../train/truncation.js';
import { type CliIo, readJsonFile } from '../util/io.js';
import { Progress, progressModeFor } from '../util/progress.js';
import type { EvalFlags, SampleFlags } from '../config/commandFlags.js';

/** A run directory's config, checked. */
export function readRunConfig(runDir: string): RunConfig {
  if (!existsSync(runDir)) throw new ConfigError(`--run ${runDir}: no such directory`);
  const path = join(runDir, RUN_FILES.config);
  if (!existsSync(path)) throw new ConfigError(`--run ${runDir}: not a ganpo run directory (no ${RUN_FILES.config})`);
  return decodeRunConfig(readJsonFile(path, 'run config'), { file: path });
}

/** The model to use from a run: its final policy, else its latest checkpoint (a run still in progress). */
export function runPolicyDir(runDir: string): string {
  const policy = join(runDir, 'policy');
  if (existsSync(join(policy, 'model.safetensors'))) return policy;
  const latest = readLatest(runDir);
  if (latest) return join(runDir, latest.dir);
  throw new ConfigError(`--run ${runDir}: no trained model yet (no policy/ and no checkpoint)`);
}

// ---------------------------------------------------------------------------------------------------------
// ganpo eval

export async function evalCommand(flags: EvalFlags, io: CliIo): Promise<number> {
  const runDir = flags.run;
  const config = readRunConfig(runDir);
  const progress = new Progress({ mode: progressModeFor(io.stderr, flags.quiet === true || flags.json === true, io.env), stream: io.stderr });
  const temperatures = flags.temperatures ?? config.eval.temperatures;
  const prompts = flags.prompts ?? config.eval.prompts;
  const pairs = flags.pairs ?? 0;
  const maxNewTokens = flags.maxNewTokens ?? config.eval.maxNewTokens;
  const seed = flags.seed ?? config.seed;
  const backend = selectBackend(flags.backend ?? config.backend);
  progress.log(`backend: ${backend.name}`);
  // Writing eval.json and the report into the run: not while another process (a training run) writes it.
  const lock = flags.write !== false ? lockRunDir(runDir, runDir, 'ganpo eval') : null;
  try {
    return await evaluateRun(runDir, config, flags, io, progress, { temperatures, prompts, pairs, maxNewTokens, seed });
  } finally {
    lock?.release();
  }
}

async function evaluateRun(
  runDir: string,
  config: RunConfig,
  flags: EvalFlags,
  io: CliIo,
  progress: Progress,
  o: { temperatures: number[]; prompts: number; pairs: number; maxNewTokens: number; seed: number },
): Promise<number> {
  const { temperatures, prompts, pairs, maxNewTokens, seed } = o;

  const record = readRunRecord(runDir);
  const policyDir = runPolicyDir(runDir);
  const referenceName = record?.referenceDir ?? (existsSync(join(runDir, 'sft')) && config.stage === 'all' ? 'sft' : 'reference');
  const referenceDir = join(runDir, referenceName);
  if (!existsSync(join(referenceDir, 'model.safetensors'))) throw new ConfigError(`--run ${runDir}: no reference model (${referenceDir})`);
  const policy = loadModelDir(policyDir, 'policy');
  const reference = loadModelDir(referenceDir, 'reference');
  const tokenizer = policy.tokenizer;
  if (!tokenizer) throw new ConfigError(`${policyDir}: no tokenizer.json`);
  const data = await loadRunData(config);
  const run = resolveRun(config, config.preference.steps);
  const objective = run.kto ? ktoOnPairs(run.kto) : preferenceObjective(run.specs, { available: { reference: true, tokens: true, tokenReference: true, logSumSquaredProbs: true } });
  const maxLength = lengthLimitOf(config, policy.model.config.contextLength);
  const result: EvalResult = evaluate({
    policy: policy.model,
    reference: freezeReference(reference.model),
    policyDir,
    referenceDir,
    tokenizer,
    evalPairs: data.evalPairs,
    heldOut: data.heldOut,
    objective,
    beta: run.beta,
    maxLength,
    pairs,
    sampling: { temperatures, prompts, maxNewTokens, seed },
    onProgress: (what) => progress.log(`evaluating: ${what}`),
  });
  if (flags.write !== false) {
    writeJson(join(runDir, RUN_FILES.eval), result);
    if (record) writeReport(runDir);
  }
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const out: string[] = [`evaluation of ${policyDir} against ${referenceDir} (${fmtNum(result.seconds, 1)} s)`];
  const table = (t: { head: string[]; rows: string[][] } | null) => {
    if (!t) return;
    const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
    out.push('', line(t.head), line(widths.map((w) => '-'.repeat(w))), ...t.rows.map(line));
  };
  table(samplingTable(result));
  table(preferenceTable(result));
  if (flags.write !== false) out.push('', `written: ${join(runDir, RUN_FILES.eval)}${record ? `, ${join(runDir, RUN_FILES.html)}` : ''}`);
  io.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// ganpo sample

export async function sampleCommand(flags: SampleFlags, io: CliIo): Promise<number> {
  if (!flags.run && !flags.model) throw new UsageError('ganpo sample needs --run DIR (a training run) or --model DIR (a model directory)');
  const temperature = flags.temperature ?? 0;
  const { topP, topK } = flags;
  const n = flags.n ?? 1;
  const seed = flags.seed ?? 0;
  const maxNewTokens = flags.maxNewTokens ?? 64;
  const config = flags.run ? readRunConfig(flags.run) : null;
  selectBackend(flags.backend ?? config?.backend ?? 'auto');
  const dir = flags.model ?? runPolicyDir(flags.run!);
  const loaded = loadModelDir(dir, flags.model ? '--model' : 'policy');
  const tokenizer: Tokenizer | undefined = loaded.tokenizer;
  if (!tokenizer) throw new ConfigError(`${dir}: no tokenizer.json; cannot encode the prompt`);
  // Embedded-task prompts end with a newline; add it when the prompt is a task prompt without one.
  const task = parseTaskPrompt(flags.prompt);
  const prompt = task && !flags.prompt.endsWith('\n') ? task.prompt : flags.prompt;
  const ctx = (loaded.model as CausalLM).config.contextLength;
  const { cut } = fitPrompt([tokenizer.bos, ...tokenizer.encode(prompt)], ctx);
  if (cut > 0) io.stderr.write(`warning: the prompt is longer than the model's context of ${ctx} tokens: its first ${cut} tokens are cut (the model sees BOS and the end of the prompt)\n`);
  if (n > 1 && temperature === 0) io.stderr.write('note: --n > 1 at temperature 0 (greedy) repeats the same response; pass --temperature\n');
  const samples = sampleResponses(loaded.model as CausalLM, Array.from({ length: n }, () => prompt), tokenizer, { temperature, topP, topK, maxNewTokens, seed });
  const scored = samples.map((s) => ({ ...s, ...(task ? { reward: rewardBreakdown(task.prompt, s).reward, answer: task.answer } : {}) }));
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ model: dir, prompt, temperature, topP: topP ?? 1, topK: topK ?? 0, seed, samples: scored }, null, 2)}\n`);
    return 0;
  }
  scored.forEach((s, i) => {
    const head = n > 1 ? `--- sample ${i + 1}/${n}` : '';
    const tail = [!s.endedWithEos ? '(cut at --max-new-tokens, no EOS)' : '', 'reward' in s ? `ground-truth reward ${(s.reward as number).toFixed(3)} (answer: ${JSON.stringify(s.answer)})` : ''].filter(Boolean);
    io.stdout.write(`${head ? `${head}\n` : ''}${s.text}\n${tail.length ? `${tail.map((t) => `# ${t}`).join('\n')}\n` : ''}`);
  });
  return 0;
}
