import { allocLike, dtypeOf } from '@ganpo/kernels';
import type { Buf } from '@ganpo/kernels';
import { Tensor } from '../tensor.js';
import type { Schedule } from './schedules.js';
import {
  type AdamConfig,
  type GradientTransformation,
  type OptState,
  type SgdConfig,
  type TransformName,
  adam,
  adamw,
  sgd,
} from './transforms.js';

/** Parameters by name (e.g. `module.namedParameters()`), or a plain list (named "0", "1", …). */
export type ParamsInput = readonly (readonly [string, Tensor])[] | readonly Tensor[];

export interface OptimizerOptions {
  /** When set, each `step()` first sets `lr = schedule(stepCount)` (step counted from 0). */
  schedule?: Schedule;
}

/**
 * The optimizer's state dict: JSON-serializable plain values plus typed arrays (copies), keyed by parameter name.
 * Loading it into an optimizer over the same named parameters resumes training bit for bit.
 */
export interface OptimizerStateDict {
  transform: TransformName;
  config: Record<string, unknown>;
  lr: number;
  step: number;
  params: Record<string, { step: number; slots: Record<string, Buf> }>;
}

/**
 * A stateful optimizer (PyTorch style) over a pure gradient transformation: `step()` reads each parameter's
 * `.grad`, skips parameters whose grad is null, and replaces the parameter's values with `assign` (fresh buffers:
 * tensors taken from the old values keep them). Its state is owned by the optimizer and updated in place.
 * A tensor listed twice (tied weights) is optimized once, under its first name.
 */
export class Optimizer {
  readonly transform: GradientTransformation;
  readonly names: readonly string[];
  readonly params: readonly Tensor[];
  schedule: Schedule | undefined;
  private currentLr: number;
  private globalStep = 0;
  private readonly paramSteps: number[];
  private readonly slots: Buf[][];

  constructor(
    transform: GradientTransformation,
    params: ParamsInput,
    options: OptimizerOptions = {},
  ) {
    this.transform = transform;
    const named: [string, Tensor][] = (params as readonly unknown[]).map((p, i) =>
      p instanceof Tensor ? [String(i), p] : [(p as readonly [string, Tensor])[0], (p as readonly [string, Tensor])[1]],
    );
    const seen = new Set<Tensor>();
    const unique = named.filter(([, t]) => (seen.has(t) ? false : (seen.add(t), true)));
    const names = unique.map(([n]) => n);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new Error(`Optimizer: two different parameters are named ${dup}`);
    this.names = names;
    this.params = unique.map(([, t]) => t);
    const init = transform.init(this.params);
    this.paramSteps = init.params.map((s) => s.step);
    this.slots = init.params.map((s) => transform.slotNames.map((name) => s.slots[name]));
    this.currentLr = transform.config.lr;
    this.schedule = options.schedule;
  }

  get lr(): number {
    return this.currentLr;
  }

  set lr(value: number) {
    if (!(value >= 0)) throw new Error(`Optimizer: lr = ${value} must be ≥ 0`);
    this.currentLr = value;
  }

  /** Number of `step()` calls so far. */
  get stepCount(): number {
    return this.globalStep;
  }

  /** Applies one update from the current gradients. */
  step(): void {
    if (this.schedule) this.lr = this.schedule(this.globalStep);
    this.params.forEach((p, i) => {
      const g = p.grad;
      if (g === null) return;
      if (g.size !== p.size) throw new Error(`Optimizer: gradient of ${this.names[i]} has ${g.size} values for ${p.size}`);
      this.paramSteps[i] += 1;
      p.assign(this.transform.applyOne(p.data, g.data, this.slots[i], this.paramSteps[i], this.currentLr));
    });
    this.globalStep += 1;
  }

  /** Clears every parameter's gradient (sets it to null). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** A snapshot of the state in the functional form (copies). */
  state(): OptState {
    return {
      step: this.globalStep,
      params: this.slots.map((slots, i) => ({
        step: this.paramSteps[i],
        slots: Object.fromEntries(this.transform.slotNames.map((s, j) => [s, slots[j].slice()])),
      })),
    };
  }

  stateDict(): OptimizerStateDict {
    const snapshot = this.state();
    return {
      transform: this.transform.name,
      config: JSON.parse(JSON.stringify(this.transform.config)) as Record<string, unknown>,
      lr: this.currentLr,
      step: this.globalStep,
      params: Object.fromEntries(this.names.map((n, i) => [n, { step: snapshot.params[i].step, slots: { ...snapshot.params[i].slots } }])),
    };
  }

  /**
   * Restores a state dict saved by an optimizer of the same kind and configuration (lr excepted, which is
   * restored) over parameters with the same names and sizes. Every mismatch is listed in one error.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const problems: string[] = [];
    if (sd.transform !== this.transform.name) problems.push(`optimizer '${sd.transform}' in the state dict, '${this.transform.name}' here`);
    const mine = JSON.parse(JSON.stringify(this.transform.config)) as Record<string, unknown>;
    for (const key of new Set([...Object.keys(mine), ...Object.keys(sd.config)])) {
      if (key === 'lr') continue;
      if (JSON.stringify(mine[key]) !== JSON.stringify(sd.config[key])) {
        problems.push(`config ${key}: ${JSON.stringify(sd.config[key])} in the state dict, ${JSON.stringify(mine[key])} here`);
      }
    }
    this.names.forEach((n, i) => {
      const entry = sd.params[n];
      if (!entry) return void problems.push(`missing ${n}`);
      for (const s of this.transform.slotNames) {
        const src = entry.slots[s];
        if (!src || src.length !== this.params[i].size) problems.push(`${n}.${s}: ${src ? src.length : 'no'} values for ${this.params[i].size}`);
      }
    });
    for (const n of Object.keys(sd.params)) if (!this.names.includes(n)) problems.push(`unexpected ${n}`);
    if (problems.length > 0) throw new Error(`Optimizer.loadStateDict: ${problems.join('; ')}`);
    this.names.forEach((n, i) => {
      const entry = sd.params[n];
      this.paramSteps[i] = entry.step;
      this.slots[i] = this.transform.slotNames.map((s) => {
        const src = entry.slots[s];
        const copy = allocLike(dtypeOf(this.params[i].data), src.length);
        copy.set(src);
        return copy;
      });
    });
    this.globalStep = sd.step;
    this.currentLr = sd.lr;
  }
}

/** `new Optimizer(sgd(config), params)`. */
export class SGD extends Optimizer {
  constructor(params: ParamsInput, config: SgdConfig & OptimizerOptions) {
    super(sgd(config), params, config);
  }
}

/** `new Optimizer(adam(config), params)`. */
export class Adam extends Optimizer {
  constructor(params: ParamsInput, config: AdamConfig & OptimizerOptions) {
    super(adam(config), params, config);
  }
}

/** `new Optimizer(adamw(config), params)`. */
export class AdamW extends Optimizer {
  constructor(params: ParamsInput, config: AdamConfig & OptimizerOptions) {
    super(adamw(config), params, config);
  }
}

/**
 * Scales all gradients together so that their global L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_):
 * when the norm exceeds maxNorm every grad is replaced by grad·maxNorm/(norm + 1e−6). Null grads are skipped; a tensor listed twice counts once.
 * Returns the norm before clipping. A non-finite norm (NaN or ±∞ in some gradient) is returned and the
 * gradients are left untouched, so the caller can detect and skip the step.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm = ${maxNorm} must be > 0`);
  const unique = [...new Set(params)];
  let acc = 0;
  for (const p of unique) {
    const g = p.grad;
    if (!g) continue;
    const d = g.data;
    for (let i = 0; i < d.length; i++) acc += d[i] * d[i];
  }
  const norm = Math.sqrt(acc);
  if (!Number.isFinite(norm)) return norm;
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const p of unique) {
      const g = p.grad;
      if (!g) continue;
      const d = g.data;
      const scaled = allocLike(dtypeOf(d), d.length);
      for (let i = 0; i < d.length; i++) scaled[i] = d[i] * coef;
      p.grad = new Tensor(scaled, g.shape, null);
    }
  }
  return norm;
}
