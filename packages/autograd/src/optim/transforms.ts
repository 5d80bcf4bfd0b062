import { allocLike, dtypeOf } from '@ganpo/kernels';
import type { Buf } from '@ganpo/kernels';
import { Tensor } from '../tensor.js';

/**
 * optax-style optimizers: a pure `init`/`update` pair over explicit, plain-data state. Nothing here touches the
 * gradient tape: updates read the raw buffers (`.data`) and write fresh ones in plain typed-array loops.
 *
 * Formulas follow PyTorch's (torch.optim.SGD, Adam, AdamW; foreach=False, amsgrad=False, maximize=False).
 * With t the parameter's own update count after this update (1 on the first update):
 *   SGD:    g ← grad + wd·p;  with momentum μ: b ← g on the first update, else b ← μ·b + (1 − dampening)·g;
 *           d ← nesterov ? g + μ·b : b (d = g without momentum);  p ← p − lr·d
 *   Adam:   g ← grad + wd·p (L2, coupled);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
 *           p ← p − (lr / (1 − β1^t))·m / (√v / √(1 − β2^t) + eps)
 *   AdamW:  p ← p·(1 − lr·wd) (decoupled), then the Adam step with g = grad.
 * Arithmetic is in float64 (JS numbers); slots (m, v, momentum) are stored in the parameter's dtype.
 */

/** Values of one parameter (a Tensor's buffer is read, never written) or a raw buffer. */
export type ParamValues = Tensor | Buf;

/** Per-parameter state: its own update count and its slot arrays (e.g. m and v for Adam). */
export interface ParamState {
  /** Number of updates this parameter has received (a parameter whose gradient was null is not counted). */
  readonly step: number;
  readonly slots: Readonly<Record<string, Buf>>;
}

/** The whole optimizer state: plain data (numbers and typed arrays), one entry per parameter in order. */
export interface OptState {
  /** Number of `update` calls. */
  readonly step: number;
  readonly params: readonly ParamState[];
}

export interface UpdateResult {
  /** New values, one per parameter: fresh buffers, or the input buffer itself where the gradient was null. */
  params: Buf[];
  state: OptState;
}

export interface SgdConfig {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient (coupled). */
  weightDecay?: number;
}

export interface AdamConfig {
  lr: number;
  betas?: readonly [number, number];
  eps?: number;
  /** adam: L2 penalty added to the gradient (coupled); adamw: decoupled decay p ← p·(1 − lr·wd). */
  weightDecay?: number;
}

export type TransformName = 'sgd' | 'adam' | 'adamw';

export interface GradientTransformation<C extends { lr: number } = { lr: number }> {
  readonly name: TransformName;
  /** The configuration with every default filled in. `lr` is the default learning rate of `update`. */
  readonly config: Readonly<Required<C>>;
  /** Names of the per-parameter slot arrays (e.g. ['m', 'v']). */
  readonly slotNames: readonly string[];
  /** Zero slots for each parameter, step 0. */
  init(params: readonly ParamValues[]): OptState;
  /**
   * One update: new parameter values and a new state (the inputs are not modified). A null gradient leaves its
   * parameter, slots and count unchanged. `lr` overrides config.lr for this update (schedules).
   */
  update(params: readonly ParamValues[], grads: readonly (ParamValues | null)[], state: OptState, lr?: number): UpdateResult;
  /**
   * The single-parameter kernel behind `update`: writes the new slot values into `slots` IN PLACE and returns
   * fresh parameter values. `step` is the parameter's count after this update (1 on its first). For callers that
   * own their state exclusively (the `Optimizer` class); `update` is this applied to copies.
   */
  applyOne(param: Buf, grad: ArrayLike<number>, slots: Buf[], step: number, lr: number): Buf;
}

const valuesOf = (x: ParamValues): Buf => (x instanceof Tensor ? x.data : x);

function check(name: string, ok: boolean, what: string): void {
  if (!ok) throw new Error(`${name}: ${what}`);
}

function makeTransform<C extends { lr: number }>(
  name: TransformName,
  config: Required<C>,
  slotNames: readonly string[],
  applyOne: GradientTransformation<C>['applyOne'],
): GradientTransformation<C> {
  const frozen = Object.freeze({ ...config });
  return {
    name,
    config: frozen,
    slotNames,
    applyOne,
    init(params) {
      return {
        step: 0,
        params: params.map((p) => {
          const data = valuesOf(p);
          return { step: 0, slots: Object.fromEntries(slotNames.map((s) => [s, allocLike(dtypeOf(data), data.length)])) };
        }),
      };
    },
    update(params, grads, state, lr = frozen.lr) {
      if (params.length !== grads.length || params.length !== state.params.length) {
        throw new Error(`${name}.update: ${params.length} parameters, ${grads.length} gradients, state for ${state.params.length}`);
      }
      const out: Buf[] = [];
      const next: ParamState[] = [];
      params.forEach((p, i) => {
        const data = valuesOf(p);
        const g = grads[i];
        const ps = state.params[i];
        if (g === null) {
          out.push(data);
          next.push(ps);
          return;
        }
        const gd = valuesOf(g);
        if (gd.length !== data.length) throw new Error(`${name}.update: gradient ${i} has ${gd.length} values for a parameter of ${data.length}`);
        const slots = slotNames.map((s) => ps.slots[s].slice());
        const step = ps.step + 1;
        out.push(applyOne(data, gd, slots, step, lr));
        next.push({ step, slots: Object.fromEntries(slotNames.map((s, j) => [s, slots[j]])) });
      });
      return { params: out, state: { step: state.step + 1, params: next } };
    },
  };
}

/** Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay (torch.optim.SGD). */
export function sgd(config: SgdConfig): GradientTransformation<SgdConfig> {
  const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = config;
  check('sgd', lr >= 0, `lr = ${lr} must be ≥ 0`);
  check('sgd', momentum >= 0, `momentum = ${momentum} must be ≥ 0`);
  check('sgd', weightDecay >= 0, `weightDecay = ${weightDecay} must be ≥ 0`);
  check('sgd', !nesterov || (momentum > 0 && dampening === 0), 'nesterov momentum requires momentum > 0 and dampening = 0');
  const slotNames = momentum > 0 ? ['momentum'] : [];
  return makeTransform<SgdConfig>('sgd', { lr, momentum, dampening, nesterov, weightDecay }, slotNames, (p, grad, slots, step, rate) => {
    const out = allocLike(dtypeOf(p), p.length);
    const buf = slots[0];
    for (let i = 0; i < p.length; i++) {
      let g = grad[i];
      if (weightDecay !== 0) g += weightDecay * p[i];
      if (momentum > 0) {
        const b = step === 1 ? g : momentum * buf[i] + (1 - dampening) * g;
        buf[i] = b;
        g = nesterov ? g + momentum * buf[i] : buf[i];
      }
      out[i] = p[i] - rate * g;
    }
    return out;
  });
}

function adamFamily(name: 'adam' | 'adamw', config: AdamConfig, defaultDecay: number): GradientTransformation<AdamConfig> {
  const { lr, betas = [0.9, 0.999], eps = 1e-8, weightDecay = defaultDecay } = config;
  const [beta1, beta2] = betas;
  check(name, lr >= 0, `lr = ${lr} must be ≥ 0`);
  check(name, beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, `betas [${beta1}, ${beta2}] must be in [0, 1)`);
  check(name, eps >= 0, `eps = ${eps} must be ≥ 0`);
  check(name, weightDecay >= 0, `weightDecay = ${weightDecay} must be ≥ 0`);
  const decoupled = name === 'adamw';
  return makeTransform<AdamConfig>(name, { lr, betas: [beta1, beta2], eps, weightDecay }, ['m', 'v'], (p, grad, slots, step, rate) => {
    const [m, v] = slots;
    const out = allocLike(dtypeOf(p), p.length);
    const bc1 = 1 - beta1 ** step;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
    const stepSize = rate / bc1;
    const shrink = 1 - rate * weightDecay;
    for (let i = 0; i < p.length; i++) {
      let x = p[i];
      let g = grad[i];
      if (decoupled) x *= shrink;
      else if (weightDecay !== 0) g += weightDecay * x;
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      out[i] = x - (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
    }
    return out;
  });
}

/** Adam with coupled L2 weight decay (torch.optim.Adam; weightDecay default 0). */
export function adam(config: AdamConfig): GradientTransformation<AdamConfig> {
  return adamFamily('adam', config, 0);
}

/** AdamW with decoupled weight decay p ← p − lr·wd·p before the Adam step (torch.optim.AdamW; weightDecay default 0.01). */
export function adamw(config: AdamConfig): GradientTransformation<AdamConfig> {
  return adamFamily('adamw', config, 0.01);
}

/** Builds a transformation from its name and configuration (used when loading an optimizer state dict). */
export function transformFromConfig(name: TransformName, config: SgdConfig | AdamConfig): GradientTransformation<SgdConfig> | GradientTransformation<AdamConfig> {
  switch (name) {
    case 'sgd':
      return sgd(config as SgdConfig);
    case 'adam':
      return adam(config as AdamConfig);
    case 'adamw':
      return adamw(config as AdamConfig);
    default:
      throw new Error(`unknown optimizer '${name as string}'`);
  }
}
