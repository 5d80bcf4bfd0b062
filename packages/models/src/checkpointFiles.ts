import { type DType, type OptimizerStateDict, Tensor } from '@ganpo/autograd';
import type { ModelConfig, ResolvedModelConfig } from './config.js';
import type { CausalLM } from './model.js';
import { type SafeTensor, type SafetensorsFile, encodeSafetensors, floatData } from './safetensors.js';
import type { Tokenizer } from './types.js';

/*
 * What a checkpoint directory holds, as bytes: the layout (see checkpoint.ts) defined once, with no file
 * system, so that Node writes it (saveCheckpoint) and a browser offers the same files for download.
 */

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export const CHECKPOINT_FORMAT = 'ganpo';
export const CHECKPOINT_FORMAT_VERSION = 1;

type TensorRecord = Record<string, Tensor | SafeTensor>;

export interface SaveCheckpointInput {
  model: CausalLM;
  /** A tokenizer (its toJSON() is saved) or its JSON directly. */
  tokenizer?: { toJSON(): unknown } | Record<string, unknown>;
  /** JSON-serializable training state: step, RNG states, anything needed to resume. */
  trainerState?: Record<string, unknown>;
  /** Optimizer state (optimizer.safetensors): an Optimizer's stateDict(), or any named tensors. */
  optimizer?: OptimizerStateDict | TensorRecord;
  /**
   * Further groups, each saved as `<name>.safetensors`: named tensors (e.g. { discriminators: d.stateDict() })
   * or optimizer state dicts (e.g. { discriminatorOptimizer: opt.stateDict() }).
   */
  extras?: Record<string, OptimizerStateDict | TensorRecord>;
  /** Free-form strings stored in model.safetensors' __metadata__. */
  metadata?: Record<string, string>;
}

export interface LoadedCheckpoint {
  model: CausalLM;
  config: ResolvedModelConfig;
  /** The tokenizer rebuilt by `tokenizerFromJSON`. */
  tokenizer?: Tokenizer;
  /** tokenizer.json as stored. */
  tokenizerJSON?: unknown;
  trainerState?: Record<string, unknown>;
  /** optimizer.safetensors' tensors as stored. */
  optimizer?: Record<string, SafeTensor>;
  /** The optimizer state dict, when one was saved (load it with `optimizer.loadStateDict`). */
  optimizerState?: OptimizerStateDict;
  /** Every other `<name>.safetensors` by name, as stored. */
  extras: Record<string, Record<string, SafeTensor>>;
  /** Those extras that hold an optimizer state dict, rebuilt. */
  extraOptimizerStates: Record<string, OptimizerStateDict>;
  /** model.safetensors' __metadata__. */
  metadata: Record<string, string>;
}

export interface LoadOptions {
  /** dtype of the built model. Default: float64 for a checkpoint saved in F64 (ours), else float32. */
  dtype?: DType;
  /** Rebuilds a tokenizer from tokenizer.json (e.g. the datasets package's tokenizerFromJSON). */
  tokenizerFromJSON?: (json: unknown) => Tokenizer;
  /**
   * Loads the tokenizer files of a Hugging Face model directory (e.g. the datasets package's
   * `loadHfTokenizer`, unwrapped). Without it, Hugging Face directories load without a tokenizer.
   */
  tokenizerFromDirectory?: (dir: string) => Tokenizer;
}

export const EXTRA_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const RESERVED = new Set(['model', 'optimizer']);

/** A Tensor or SafeTensor as a SafeTensor for writing (F32 or F64 by the tensor's dtype). */
export function toSafe(t: Tensor | SafeTensor): SafeTensor {
  if (t instanceof Tensor) return { dtype: t.dtype === 'float64' ? 'F64' : 'F32', shape: [...t.shape], data: t.data };
  return t;
}

function safeRecord(r: TensorRecord): Record<string, SafeTensor> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toSafe(v)]));
}

const OPTIMIZER_METADATA_KEY = 'optimizer_state';

function isOptimizerStateDict(x: unknown): x is OptimizerStateDict {
  const o = x as Partial<OptimizerStateDict>;
  return typeof o === 'object' && o !== null && typeof o.transform === 'string' && typeof o.params === 'object' && typeof o.step === 'number';
}

/**
 * An optimizer state dict as safetensors: one tensor `<param>/<slot>` per moment buffer (bit-exact, in its
 * dtype) and the rest (transform, config, lr, steps) as JSON in `__metadata__.optimizer_state`.
 */
export function optimizerStateToSafetensors(sd: OptimizerStateDict): { tensors: Record<string, SafeTensor>; metadata: Record<string, string> } {
  const tensors: Record<string, SafeTensor> = {};
  const params: Record<string, { step: number; slots: string[] }> = {};
  for (const [name, entry] of Object.entries(sd.params)) {
    params[name] = { step: entry.step, slots: Object.keys(entry.slots) };
    for (const [slot, buf] of Object.entries(entry.slots)) {
      tensors[`${name}/${slot}`] = { dtype: buf instanceof Float64Array ? 'F64' : 'F32', shape: [buf.length], data: buf };
    }
  }
  const meta = { transform: sd.transform, config: sd.config, lr: sd.lr, step: sd.step, params };
  return { tensors, metadata: { [OPTIMIZER_METADATA_KEY]: JSON.stringify(meta) } };
}

/** The inverse of {@link optimizerStateToSafetensors}; undefined when the file holds no optimizer state. */
export function optimizerStateFromSafetensors(file: SafetensorsFile, source = 'optimizer.safetensors'): OptimizerStateDict | undefined {
  const raw = file.metadata[OPTIMIZER_METADATA_KEY];
  if (raw === undefined) return undefined;
  const fail = (msg: string): never => {
    throw new CheckpointError(`${source}: ${msg}`);
  };
  let meta: { transform?: unknown; config?: unknown; lr?: unknown; step?: unknown; params?: unknown };
  try {
    meta = JSON.parse(raw);
  } catch (e) {
    return fail(`__metadata__.${OPTIMIZER_METADATA_KEY} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof meta !== 'object' || meta === null) return fail('optimizer state is not an object');
  if (typeof meta.transform !== 'string' || typeof meta.lr !== 'number' || typeof meta.step !== 'number') {
    return fail('optimizer state needs transform, lr and step');
  }
  if (typeof meta.config !== 'object' || meta.config === null || typeof meta.params !== 'object' || meta.params === null) {
    return fail('optimizer state needs config and params objects');
  }
  const params: OptimizerStateDict['params'] = {};
  for (const [name, entry] of Object.entries(meta.params as Record<string, { step?: unknown; slots?: unknown }>)) {
    if (typeof entry?.step !== 'number' || !Array.isArray(entry.slots)) fail(`optimizer state of ${name} needs step and slots`);
    const slots: Record<string, Float32Array | Float64Array> = {};
    for (const slot of entry.slots as unknown[]) {
      const t = file.tensors[`${name}/${String(slot)}`];
      if (!t) return fail(`missing tensor ${name}/${String(slot)}`);
      if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) return fail(`${name}/${String(slot)} is not a float tensor`);
      slots[String(slot)] = t.data;
    }
    params[name] = { step: entry.step as number, slots };
  }
  return { transform: meta.transform as OptimizerStateDict['transform'], config: meta.config as Record<string, unknown>, lr: meta.lr, step: meta.step, params };
}

/** Encodes a group for the checkpoint: an optimizer state dict or named tensors. */
function encodeGroup(group: OptimizerStateDict | TensorRecord): Uint8Array {
  if (isOptimizerStateDict(group)) {
    const { tensors, metadata } = optimizerStateToSafetensors(group);
    return encodeSafetensors(tensors, metadata);
  }
  return encodeSafetensors(safeRecord(group as TensorRecord));
}

/** The model's parameters and buffers by name, as safetensors entries (no copies). */
export function modelTensors(model: CausalLM): Record<string, SafeTensor> {
  return safeRecord(model.stateDict());
}

export function configJSON(config: ModelConfig): Record<string, unknown> {
  return { format: CHECKPOINT_FORMAT, formatVersion: CHECKPOINT_FORMAT_VERSION, ...config };
}

/** One file of a checkpoint directory: its name and its contents. */
export interface CheckpointFile {
  readonly name: string;
  readonly data: Uint8Array | string;
}

/** The files of a checkpoint directory for `input` (see checkpoint.ts for the layout); validates extra names first. */
export function checkpointFiles(input: SaveCheckpointInput): CheckpointFile[] {
  const { model } = input;
  for (const name of Object.keys(input.extras ?? {})) {
    if (!EXTRA_NAME.test(name) || RESERVED.has(name)) {
      throw new CheckpointError(`saveCheckpoint: '${name}' cannot name an extra tensor file (letters, digits, _ and -; not model or optimizer)`);
    }
  }
  const metadata = { ...(input.metadata ?? {}), format: CHECKPOINT_FORMAT, dropoutRng: JSON.stringify(model.dropoutRng.state()) };
  const files: CheckpointFile[] = [
    { name: 'model.safetensors', data: encodeSafetensors(modelTensors(model), metadata) },
    { name: 'config.json', data: `${JSON.stringify(configJSON(model.config), null, 2)}\n` },
  ];
  if (input.tokenizer !== undefined) {
    const tok = input.tokenizer;
    const json = typeof (tok as { toJSON?: unknown }).toJSON === 'function' ? (tok as { toJSON(): unknown }).toJSON() : tok;
    files.push({ name: 'tokenizer.json', data: `${JSON.stringify(json)}\n` });
  }
  if (input.trainerState !== undefined) files.push({ name: 'trainer_state.json', data: `${JSON.stringify(input.trainerState, null, 2)}\n` });
  if (input.optimizer !== undefined) files.push({ name: 'optimizer.safetensors', data: encodeGroup(input.optimizer) });
  for (const [name, group] of Object.entries(input.extras ?? {})) files.push({ name: `${name}.safetensors`, data: encodeGroup(group) });
  return files;
}
