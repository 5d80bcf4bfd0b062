import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Optimizer, OptimizerStateDict } from '@ganpo/autograd';
import { type Ganpo, type GanpoStateMeta, ganpoStateDict, loadGanpoState } from '@ganpo/adversarial';
import type { Tokenizer } from '@ganpo/datasets';
import { type CausalLM, type SafeTensor, saveCheckpoint, toTensors, writeFileAtomic } from '@ganpo/models';
import { RunFailure } from '../errors.js';
import { loadRunCheckpoint } from './model.js';

/**
 * Training checkpoints. Each is one of the models package's checkpoint directories, written atomically:
 *   OUT/checkpoints/<stage>-step-<NNNNNN>/
 *     model.safetensors, config.json, tokenizer.json   the policy (its dropout stream in the metadata)
 *     optimizer.safetensors                            AdamW moments, `<param>.<slot>`
 *     discriminators.safetensors                       GANPO discriminators and their AdamW moments
 *     trainer_state.json                               stage, step, optimizer counters, GANPO means and streams
 * and `OUT/checkpoints/latest.json` names the newest complete one (rewritten atomically after it). The data
 * order is a pure function of (seed, step), so step and state are all a resumed run needs.
 */

export type TrainStage = 'sft' | 'preference';

export interface TrainerState {
  readonly format: 'ganpo-trainer/1';
  readonly stage: TrainStage;
  /** Optimizer steps done in this stage. */
  readonly step: number;
  readonly totalSteps: number;
  /** Whether the stage finished (the checkpoint holds its final model). */
  readonly stageDone: boolean;
  readonly optimizer: Omit<OptimizerStateDict, 'params'> & { params: Record<string, { step: number }> };
  readonly ganpo: GanpoStateMeta | null;
  /** Seconds and tokens spent in this stage so far (for the timing summary across a resume). */
  readonly seconds: number;
  readonly tokens: number;
}

export interface LatestPointer {
  readonly stage: TrainStage;
  readonly step: number;
  readonly stageDone: boolean;
  /** Relative to the run directory. */
  readonly dir: string;
}

export const checkpointsDir = (runDir: string) => join(runDir, 'checkpoints');
export const checkpointName = (stage: TrainStage, step: number) => `${stage}-step-${String(step).padStart(6, '0')}`;

/** The optimizer's moments as named tensors, and its counters as JSON. */
export function optimizerTensors(opt: Optimizer): { tensors: Record<string, SafeTensor>; meta: TrainerState['optimizer'] } {
  const sd = opt.stateDict();
  const tensors: Record<string, SafeTensor> = {};
  const params: Record<string, { step: number }> = {};
  for (const [name, entry] of Object.entries(sd.params)) {
    params[name] = { step: entry.step };
    for (const [slot, buf] of Object.entries(entry.slots)) {
      tensors[`${name}.${slot}`] = { dtype: buf instanceof Float64Array ? 'F64' : 'F32', shape: [buf.length], data: buf as Float32Array };
    }
  }
  return { tensors, meta: { transform: sd.transform, config: sd.config, lr: sd.lr, step: sd.step, params } };
}

export function restoreOptimizer(opt: Optimizer, meta: TrainerState['optimizer'], tensors: Record<string, SafeTensor>, where: string): void {
  const params: OptimizerStateDict['params'] = {};
  for (const [name, { step }] of Object.entries(meta.params)) {
    const slots: Record<string, Float32Array | Float64Array> = {};
    for (const slot of opt.transform.slotNames) {
      const t = tensors[`${name}.${slot}`];
      if (!t) throw new RunFailure(`${where}: optimizer.safetensors has no ${name}.${slot}`);
      slots[slot] = t.data as Float32Array;
    }
    params[name] = { step, slots };
  }
  try {
    opt.loadStateDict({ ...meta, params } as OptimizerStateDict);
  } catch (e) {
    throw new RunFailure(`${where}: the optimizer state does not fit this run: ${(e as Error).message}`);
  }
}

export interface SaveInput {
  readonly runDir: string;
  readonly stage: TrainStage;
  readonly step: number;
  readonly totalSteps: number;
  readonly stageDone: boolean;
  readonly model: CausalLM;
  readonly tokenizer: Tokenizer;
  readonly optimizer: Optimizer;
  readonly ganpo: Ganpo | null;
  readonly seconds: number;
  readonly tokens: number;
  readonly keep: number;
}

/** Writes a checkpoint and then points latest.json at it; prunes older periodic ones. Returns its directory. */
export function saveTrainingCheckpoint(s: SaveInput): string {
  const root = checkpointsDir(s.runDir);
  mkdirSync(root, { recursive: true });
  const dir = join(root, checkpointName(s.stage, s.step));
  const opt = optimizerTensors(s.optimizer);
  const ganpo = s.ganpo ? ganpoStateDict(s.ganpo) : null;
  const state: TrainerState = {
    format: 'ganpo-trainer/1',
    stage: s.stage,
    step: s.step,
    totalSteps: s.totalSteps,
    stageDone: s.stageDone,
    optimizer: opt.meta,
    ganpo: ganpo ? ganpo.meta : null,
    seconds: s.seconds,
    tokens: s.tokens,
  };
  saveCheckpoint(dir, {
    model: s.model,
    tokenizer: s.tokenizer,
    trainerState: state as unknown as Record<string, unknown>,
    optimizer: opt.tensors,
    extras: ganpo ? { discriminators: ganpo.tensors } : {},
  });
  const pointer: LatestPointer = { stage: s.stage, step: s.step, stageDone: s.stageDone, dir: relative(s.runDir, dir) };
  writeFileAtomic(join(root, 'latest.json'), `${JSON.stringify(pointer, null, 2)}\n`);
  prune(root, dir, s.keep);
  return dir;
}

/** Keeps the newest `keep` checkpoints (never the one just written). */
function prune(root: string, current: string, keep: number): void {
  const names = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^(sft|preference)-step-\d+$/.test(d.name))
    .map((d) => d.name)
    .sort((a, b) => order(a) - order(b));
  const excess = names.slice(0, Math.max(0, names.length - keep));
  for (const name of excess) {
    if (resolve(root, name) === resolve(current)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
  }
}

const order = (name: string) => {
  const m = /^(sft|preference)-step-(\d+)$/.exec(name)!;
  return (m[1] === 'sft' ? 0 : 1e9) + Number(m[2]);
};

export function readLatest(runDir: string): LatestPointer | null {
  const path = join(checkpointsDir(runDir), 'latest.json');
  if (!existsSync(path)) return null;
  try {
    const p = JSON.parse(readFileSync(path, 'utf8')) as LatestPointer;
    if ((p.stage !== 'sft' && p.stage !== 'preference') || typeof p.step !== 'number' || typeof p.dir !== 'string') throw new Error('bad fields');
    return p;
  } catch (e) {
    throw new RunFailure(`${path} is damaged (${(e as Error).message}); delete it to restart the run from the beginning`);
  }
}

export interface LoadedTraining {
  readonly dir: string;
  readonly model: CausalLM;
  readonly state: TrainerState;
  readonly optimizerTensors: Record<string, SafeTensor>;
  /** Rebuilds the GANPO state (null if the checkpoint has none). */
  readonly ganpo: () => Ganpo | null;
}

export function loadTrainingCheckpoint(runDir: string, pointer: LatestPointer): LoadedTraining {
  const dir = join(runDir, pointer.dir);
  const ckpt = loadRunCheckpoint(dir);
  const state = ckpt.trainerState as unknown as TrainerState | undefined;
  if (!state || state.format !== 'ganpo-trainer/1') throw new RunFailure(`${dir}: no trainer state (trainer_state.json); it cannot be resumed`);
  const discs = ckpt.extras.discriminators;
  return {
    dir,
    model: ckpt.model,
    state,
    optimizerTensors: ckpt.optimizer ?? {},
    ganpo: () => {
      if (!state.ganpo) return null;
      if (!discs) throw new RunFailure(`${dir}: trainer state has GANPO but discriminators.safetensors is missing`);
      return loadGanpoState({ meta: state.ganpo, tensors: toTensors(discs, state.ganpo.config.dtype) });
    },
  };
}
