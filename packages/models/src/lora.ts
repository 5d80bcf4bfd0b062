import { Linear, type Module, type Rng, type Tensor, bmm, dropout, mul, noGrad } from '@ganpo/autograd';
import { type LoraConfig, parseModelConfig } from './config.js';
import { CausalLM } from './model.js';

/**
 * LoRA (Hu et al. 2021) as PEFT does it: each target Linear W gets y = W·x + (alpha/r)·B·A·dropout(x), with
 * lora_A [r, in] drawn U(±1/√in) (PEFT's kaiming-uniform with a = √5), lora_B [out, r] zeros, so the adapted
 * model starts equal to the base. The adapters are children of their layer (`q_proj.lora_A.weight`, PEFT's
 * names without the `.default` adapter name); the base weights are frozen, so only adapters train. The
 * reference model is the same model with the adapters switched off (`model.adapters.enabled`).
 */

/** PEFT's defaults for the CLI: r 8, alpha 8, dropout 0, targets q_proj and v_proj (c_attn for GPT-2). */
export const LORA_DEFAULTS = { r: 8, alpha: 8, dropout: 0 } as const;
export const defaultLoraTargets = (architecture: 'gpt2' | 'llama'): string[] => (architecture === 'llama' ? ['q_proj', 'v_proj'] : ['c_attn']);

/** The Linear layers of `root` whose own name is one of `targets`, by path. */
export function loraTargets(root: Module, targets: readonly string[]): [string, Linear][] {
  const found: [string, Linear][] = [];
  const walk = (m: Module, prefix: string) => {
    for (const [name, child] of m.namedChildren()) {
      const path = prefix + name;
      if (child instanceof Linear && targets.includes(name)) found.push([path, child]);
      else walk(child, `${path}.`);
    }
  };
  walk(root, '');
  return found;
}

const adapters = new WeakMap<Linear, { a: Linear; b: Linear; scale: number }>();

/** Attaches adapters to every target Linear of `model` and freezes everything else. Called by the CausalLM constructor. */
export function attachLora(model: CausalLM, lora: LoraConfig, rng: Rng): void {
  const layers = loraTargets(model, lora.targets);
  if (layers.length === 0) {
    const names = [...new Set(loraTargets(model, allLinearNames(model)).map(([p]) => p.split('.').pop()!))];
    throw new Error(`LoRA: no Linear layer is named ${lora.targets.join(', ')} (this model's: ${names.join(', ')})`);
  }
  for (const p of model.parameters()) p.requireGrad(false);
  const scale = lora.alpha / lora.r;
  for (const [, layer] of layers) {
    const a = new Linear(layer.inFeatures, lora.r, { rng, bias: false, layout: 'out_in', dtype: model.dtype });
    const bound = 1 / Math.sqrt(layer.inFeatures);
    a.weight.assign(a.weight.data.map(() => (2 * rng.uniform() - 1) * bound));
    const b = new Linear(lora.r, layer.outFeatures, { rng, bias: false, layout: 'out_in', dtype: model.dtype });
    b.weight.assign(b.weight.data.fill(0));
    layer.attachDelta({ lora_A: a, lora_B: b }, (x) => {
      if (!model.adapters.enabled) return null;
      const input = lora.dropout > 0 ? dropout(x, lora.dropout, model.dropoutRng, a.training) : x;
      return mul(b.forward(a.forward(input)), scale);
    });
    adapters.set(layer, { a, b, scale });
  }
}

function allLinearNames(root: Module): string[] {
  const names: string[] = [];
  const walk = (m: Module) => {
    for (const [name, child] of m.namedChildren()) {
      if (child instanceof Linear) names.push(name);
      walk(child);
    }
  };
  walk(root);
  return names;
}

/** The adapted layers of a model, by path, with their adapters. */
export function loraLayers(model: CausalLM): { path: string; layer: Linear; a: Linear; b: Linear; scale: number }[] {
  if (!model.config.lora) return [];
  return loraTargets(model, model.config.lora.targets).map(([path, layer]) => ({ path, layer, ...adapters.get(layer)! }));
}

/** scale·B·A in the layer's weight layout ([out, in], or [in, out] for GPT-2's Conv1D). */
function update(layer: Linear, a: Linear, b: Linear, scale: number): Tensor {
  return noGrad(() => mul(layer.layout === 'out_in' ? bmm(b.weight, a.weight) : bmm(a.weight, b.weight, true, true), scale));
}

/** Adds each adapter's update into its base weight and zeros lora_B: the model computes the same function. */
export function foldLora(model: CausalLM): void {
  for (const { layer, a, b, scale } of loraLayers(model)) {
    if (b.weight.data.every((v) => v === 0)) continue;
    const delta = update(layer, a, b, scale).data;
    layer.weight.assign(layer.weight.data.map((w, i) => w + delta[i]));
    b.weight.assign(b.weight.data.map(() => 0));
  }
}

/**
 * The reference view of a LoRA model: the same weights with the adapters off, always in evaluation mode and
 * without gradient; mode switches and freezing are no-ops on it. The adapters' current update is first folded
 * into the base (foldLora), so the reference is the model as it is now (e.g. after an SFT stage) and training
 * continues from zeroed lora_B.
 */
export function loraReference(model: CausalLM): CausalLM {
  foldLora(model);
  const view = Object.create(model) as CausalLM;
  const forward: CausalLM['forward'] = (...args) => {
    const wasTraining = model.training;
    const wasEnabled = model.adapters.enabled;
    model.eval();
    model.adapters.enabled = false;
    try {
      return noGrad(() => model.forward(...args));
    } finally {
      model.adapters.enabled = wasEnabled;
      model.train(wasTraining);
    }
  };
  const self = () => view;
  Object.defineProperties(view, {
    forward: { value: forward },
    training: { get: () => false, set: () => undefined },
    train: { value: self },
    eval: { value: self },
    freeze: { value: self },
    unfreeze: { value: self },
  });
  return view;
}

/** A new model without adapters whose weights are the base plus each adapter's update (for export). */
export function mergeLora(model: CausalLM): CausalLM {
  const merged = new CausalLM({ ...model.config, lora: null }, { dtype: model.dtype });
  const own = merged.stateDict();
  const updates = new Map(loraLayers(model).map(({ path, layer, a, b, scale }) => [`${path}.weight`, update(layer, a, b, scale).data]));
  for (const [name, t] of Object.entries(model.stateDict())) {
    if (!(name in own)) continue;
    const delta = updates.get(name);
    own[name].assign(delta ? t.data.map((w, i) => w + delta[i]) : t.data.slice());
  }
  return merged.eval();
}

/** A model with LoRA adapters on `base`'s weights (copied in; `base` can then be dropped), in `base`'s mode. */
export function addLora(base: CausalLM, lora: LoraConfig): CausalLM {
  if (base.config.lora) throw new Error('addLora: the model already has adapters');
  const model = new CausalLM(parseModelConfig({ ...base.config, lora }, 'LoRA'), { dtype: base.dtype });
  model.loadStateDict({ ...model.stateDict(), ...base.stateDict() });
  model.dropoutRng = base.dropoutRng;
  return model.train(base.training);
}
