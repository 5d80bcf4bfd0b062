import { cpus, freemem, totalmem, platform, release, arch } from 'node:os';
import { Rng } from '@ganpo/autograd';
import { Ganpo } from '@ganpo/adversarial';
import { byteTokenizer, embeddedTask } from '@ganpo/datasets';
import { autoBackendName, backendInfo, registeredBackends } from '@ganpo/kernels';
import { CausalLM, freezeReference, MODEL_PRESETS, presetConfig } from '@ganpo/models';
import { preferenceObjective } from '@ganpo/objectives';
import { resolveGanpo, resolveObjective } from '../config/resolve.js';
import { defaultRunConfig, type RunConfig } from '../config/runConfig.js';
import { UsageError } from '../errors.js';
import { selectBackend } from '../train/backend.js';
import { EMBEDDED_TASK_SEED } from '../train/data.js';
import { isPreset } from '../train/model.js';
import { newOptimizer, optimizerStep, type StageDescription, type StageStart } from '../train/loop.js';
import { preferenceStage } from '../train/stages/preference.js';
import { sftStage } from '../train/stages/sft.js';
import type { CliIo } from '../util/io.js';
import { VERSION } from '../version.js';

// ---------------------------------------------------------------------------------------------------------
// ganpo info

export function infoCommand(flags: { backend?: string; json?: boolean }, io: CliIo): number {
  const auto = autoBackendName(io.env);
  const chosen = selectBackend(flags.backend ?? 'auto');
  const cpu = cpus();
  const info = {
    version: VERSION,
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    cpu: { model: cpu[0]?.model ?? 'unknown', cores: cpu.length },
    memory: { totalGiB: +(totalmem() / 2 ** 30).toFixed(1), freeGiB: +(freemem() / 2 ** 30).toFixed(1) },
    backends: registeredBackends(),
    autoBackend: auto,
    backend: chosen,
    gpujsMode: io.env.GANPO_GPUJS_MODE || 'gpu (gpu.js picks)',
    env: Object.fromEntries(['GANPO_BACKEND', 'GANPO_GPUJS_MODE', 'GANPO_DEBUG', 'GANPO_PROGRESS'].filter((k) => io.env[k]).map((k) => [k, io.env[k]])),
  };
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `ganpo ${info.version} (node ${info.node}, ${info.platform})`,
    `machine:  ${info.cpu.cores} × ${info.cpu.model}, ${info.memory.totalGiB} GiB memory (${info.memory.freeGiB} GiB free)`,
    `backends: ${info.backends.join(', ')}; automatic choice: ${info.autoBackend}`,
    `in use:   ${info.backend.name}: ${info.backend.detail}`,
    `gpu.js:   mode ${info.gpujsMode} (used by --backend gpujs; GANPO_GPUJS_MODE=gpu|headlessgl|webasm|cpu selects it)`,
  ];
  if (Object.keys(info.env).length > 0) lines.push(`env:      ${Object.entries(info.env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// ganpo bench

export interface BenchFlags {
  model?: string;
  batchSize?: string;
  steps?: string;
  warmup?: string;
  backend?: string;
  json?: boolean;
}

export interface BenchRow {
  readonly name: string;
  readonly msPerStep: number;
  readonly tokensPerSecond: number;
  readonly steps: number;
}

const intFlag = (v: string | undefined, flag: string, dflt: number, min: number): number => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag}: expected an integer ≥ ${min}, got '${v}'`);
  return n;
};

/**
 * Step time and tokens/s of SFT, DPO, and DPO+GANPO on a preset model with embedded-task batches: the
 * training step of `ganpo train`, without data loading, logging or checkpoints. Each variant starts from
 * the same weights and runs `warmup` untimed steps first.
 */
export async function benchCommand(flags: BenchFlags, io: CliIo): Promise<number> {
  const modelName = flags.model ?? 'small';
  if (!isPreset(modelName)) throw new UsageError(`--model: expected a preset (${Object.keys(MODEL_PRESETS).join(', ')}), got '${modelName}'`);
  const batchSize = intFlag(flags.batchSize, '--batch-size', 8, 1);
  const steps = intFlag(flags.steps, '--steps', 10, 1);
  const warmup = intFlag(flags.warmup, '--warmup', 2, 0);
  const backend = selectBackend(flags.backend ?? 'auto');
  const tokenizer = byteTokenizer();
  const base: RunConfig = defaultRunConfig();
  const maxLength = base.data.maxLength;
  const config: RunConfig = { ...base, preference: { ...base.preference, batchSize, warmup: 0 }, sft: { ...base.sft, batchSize: 2 * batchSize, warmup: 0 } };
  const task = embeddedTask({ seed: EMBEDDED_TASK_SEED, nSft: 512, nTrain: 512, nEval: 0, nHeldOut: 0 });
  const modelConfig = presetConfig(modelName, { vocabSize: tokenizer.vocabSize, contextLength: Math.max(MODEL_PRESETS[modelName].contextLength, maxLength) });
  const objectiveParts = resolveObjective(config);
  const objective = preferenceObjective(objectiveParts.specs);
  const rows: BenchRow[] = [];
  const total = warmup + steps;
  const variants: { name: string; kind: 'sft' | 'dpo' | 'ganpo' }[] = [
    { name: 'sft', kind: 'sft' },
    { name: 'dpo', kind: 'dpo' },
    { name: 'dpo+ganpo', kind: 'ganpo' },
  ];
  for (const v of variants) {
    const model = new CausalLM(modelConfig, { rng: Rng.seeded(0) });
    const loop = v.kind === 'sft' ? config.sft : config.preference;
    const ganpoCfg = v.kind === 'ganpo' ? resolveGanpo(config, total) : null;
    const start: StageStart = { model, optimizer: newOptimizer(model, loop, total), step: 0, seconds: 0, tokens: 0, checkpoint: null };
    const common = { model, tokenizer, loop, totalSteps: total, seed: 1, maxLength, evaluate: () => ({}) };
    const stepper = <Item>(stage: StageDescription<Item>) => (k: number) => optimizerStep(stage, start, k, null, null);
    const step =
      v.kind === 'sft'
        ? stepper(sftStage({ ...common, demos: task.sft }))
        : stepper(
            preferenceStage({
              ...common,
              label: 'preference',
              reference: freezeReference(model),
              pairs: task.trainPairs,
              run: { ...objectiveParts, config, ganpo: ganpoCfg, needsReference: true },
              objective,
              ganpo: ganpoCfg ? Ganpo.create(ganpoCfg, { latentDim: modelConfig.dModel }) : null,
            }),
          );
    let ms = 0;
    let tokens = 0;
    for (let k = 0; k < total; k++) {
      const t = performance.now();
      const out = step(k);
      const dt = performance.now() - t;
      if (k >= warmup) {
        ms += dt;
        tokens += out.tokens;
      }
      await new Promise((r) => setImmediate(r));
    }
    rows.push({ name: v.name, msPerStep: ms / steps, tokensPerSecond: (tokens / ms) * 1000, steps });
  }
  const dpo = rows.find((r) => r.name === 'dpo')!;
  const ganpo = rows.find((r) => r.name === 'dpo+ganpo')!;
  const overhead = ganpo.msPerStep / dpo.msPerStep - 1;
  const result = {
    backend,
    model: { preset: modelName, parameters: new CausalLM(modelConfig).parameterCount(), ...modelConfig },
    batch: { pairs: batchSize, sftExamples: 2 * batchSize, maxLength },
    steps,
    warmup,
    rows,
    ganpoOverhead: overhead,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' },
  };
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `backend ${backend.name} (${backend.detail})`,
    `model ${modelName} preset (${result.model.parameters.toLocaleString('en-US')} parameters), ${batchSize} pairs per preference step (${2 * batchSize} rows), ${2 * batchSize} examples per SFT step; ${steps} timed steps after ${warmup} warmup`,
    '',
    `${'step'.padEnd(12)}${'ms/step'.padStart(10)}${'tokens/s'.padStart(12)}`,
    ...rows.map((r) => `${r.name.padEnd(12)}${r.msPerStep.toFixed(1).padStart(10)}${Math.round(r.tokensPerSecond).toLocaleString('en-US').padStart(12)}`),
    '',
    `GANPO overhead over DPO: ${(100 * overhead).toFixed(1)}% per step (${result.machine.cores} cores, ${result.machine.cpu})`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export { backendInfo };
