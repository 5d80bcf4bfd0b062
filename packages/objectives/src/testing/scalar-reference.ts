/**
 * docs/objectives.md transcribed formula by formula in plain float64 arithmetic (numbers and Math only, no tensors),
 * as the independent reference for the conformance tests. Deliberately naive where naivety is exact enough on the
 * committed inputs (they stay away from the stability limits), and written without sharing code with src/.
 */

export interface ScalarTokens {
  policyChosen: number[][];
  policyRejected: number[][];
  refChosen?: number[][];
  refRejected?: number[][];
  maskChosen: number[][];
  maskRejected: number[][];
  logSumSquaredProbsChosen?: number[][];
  logSumSquaredProbsRejected?: number[][];
}

export interface ScalarPair {
  policyChosen: number[];
  policyRejected: number[];
  refChosen?: number[];
  refRejected?: number[];
  chosenLengths: number[];
  rejectedLengths: number[];
  tokens?: ScalarTokens;
}

/** Every parameter explicit: the reference has no defaults of its own. */
export interface ScalarConfig {
  beta: number;
  eps: number;
  gamma: number;
  simpoHinge: boolean;
  alpha: number;
  tau: number;
  referenceFree: boolean;
  f: { type: 'reverse_kl' | 'forward_kl' | 'js_divergence' | 'alpha_divergence'; alpha: number };
  ldAlpha: number | null;
  lengthPenalty: number;
  /** WPO pair weights, frozen (the implementation computes them without gradient). */
  wpo: number[] | null;
}

const logSig = (z: number): number => (z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z)));
const sig = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const total = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** log(1 − eˣ), x clamped to ≤ −1e-6 as documented. */
export function log1mexpRef(x: number): number {
  const y = Math.min(x, -1e-6);
  return y < -Math.LN2 ? Math.log1p(-Math.exp(y)) : Math.log(-Math.expm1(y));
}

function score(d: number, f: ScalarConfig['f']): number {
  switch (f.type) {
    case 'reverse_kl': return d;
    case 'forward_kl': return -Math.exp(Math.min(-d, 30));
    case 'js_divergence': return logSig(d);
    case 'alpha_divergence': return Math.exp(Math.min((f.alpha - 1) * d, 30)) / (f.alpha - 1);
  }
}

/** LD-DPO sequence log-prob of one row: the first `shared` completion tokens fully, the rest times α. */
function ldRow(logps: number[], mask: number[], shared: number, alpha: number): number {
  let seen = 0;
  let acc = 0;
  for (let t = 0; t < logps.length; t++) {
    acc += mask[t] * logps[t] * (seen < shared ? 1 : alpha);
    if (mask[t] > 0.5) seen++;
  }
  return acc;
}

const countTokens = (mask: number[]) => mask.filter((m) => m > 0.5).length;

/** WPO pair weights as documented: exp(mean_c + mean_r) of log p − log Σp², at most 1. */
export function wpoWeightsRef(tk: ScalarTokens): number[] {
  const side = (lp: number[][], lsp: number[][], mask: number[][]) =>
    lp.map((row, b) => row.reduce((a, v, t) => a + mask[b][t] * (v - lsp[b][t]), 0) / total(mask[b]));
  const c = side(tk.policyChosen, tk.logSumSquaredProbsChosen!, tk.maskChosen);
  const r = side(tk.policyRejected, tk.logSumSquaredProbsRejected!, tk.maskRejected);
  return c.map((v, b) => Math.min(Math.exp(v + r[b]), 1));
}

/** The batch loss of `name` on `x` under `c`. */
export function scalarLoss(name: string, x: ScalarPair, c: ScalarConfig): number {
  const B = x.policyChosen.length;
  let pc = [...x.policyChosen];
  let pr = [...x.policyRejected];
  let rc = c.referenceFree || !x.refChosen ? pc.map(() => 0) : [...x.refChosen];
  let rr = c.referenceFree || !x.refRejected ? pr.map(() => 0) : [...x.refRejected];
  const lc = x.chosenLengths;
  const lr = x.rejectedLengths;
  if (c.ldAlpha !== null && x.tokens) {
    const tk = x.tokens;
    const shared = tk.maskChosen.map((m, b) => Math.min(countTokens(m), countTokens(tk.maskRejected[b])));
    pc = tk.policyChosen.map((row, b) => ldRow(row, tk.maskChosen[b], shared[b], c.ldAlpha!));
    pr = tk.policyRejected.map((row, b) => ldRow(row, tk.maskRejected[b], shared[b], c.ldAlpha!));
    if (!c.referenceFree) {
      rc = tk.refChosen!.map((row, b) => ldRow(row, tk.maskChosen[b], shared[b], c.ldAlpha!));
      rr = tk.refRejected!.map((row, b) => ldRow(row, tk.maskRejected[b], shared[b], c.ldAlpha!));
    }
  }
  const { beta, eps } = c;
  const Dc = pc.map((v, i) => v - rc[i]);
  const Dr = pr.map((v, i) => v - rr[i]);
  const hOf = (dc: number, dr: number) => score(dc, c.f) - score(dr, c.f);
  const cdpo = (z: number) => -(1 - eps) * logSig(z) - eps * logSig(-z);
  const nll = -total(x.policyChosen) / total(lc);
  const sortAsc = (xs: number[]) => [...xs].sort((a, b) => a - b);

  const perPair: number[] = [];
  switch (name) {
    case 'sigmoid':
      for (let i = 0; i < B; i++) perPair.push(cdpo(beta * hOf(Dc[i], Dr[i]) - c.lengthPenalty * (lc[i] - lr[i])));
      break;
    case 'hinge':
      for (let i = 0; i < B; i++) perPair.push(Math.max(0, 1 - beta * hOf(Dc[i], Dr[i])));
      break;
    case 'ipo':
      for (let i = 0; i < B; i++) perPair.push((hOf(Dc[i] / lc[i], Dr[i] / lr[i]) - 1 / (2 * beta)) ** 2);
      break;
    case 'exo_pair':
      for (let i = 0; i < B; i++) {
        const z = beta * hOf(Dc[i], Dr[i]);
        const qw = sig(z);
        const ql = sig(-z);
        perPair.push(qw * (Math.log(qw) - Math.log(1 - eps)) + ql * (Math.log(ql) - Math.log(eps)));
      }
      break;
    case 'nca_pair':
      for (let i = 0; i < B; i++) {
        perPair.push(-logSig(beta * Dc[i]) - 0.5 * logSig(-beta * Dc[i]) - 0.5 * logSig(-beta * Dr[i]));
      }
      break;
    case 'robust':
      for (let i = 0; i < B; i++) {
        const z = beta * hOf(Dc[i], Dr[i]);
        perPair.push((-(1 - eps) * logSig(z) + eps * logSig(-z)) / (1 - 2 * eps));
      }
      break;
    case 'bco_pair':
      for (let i = 0; i < B; i++) perPair.push(-logSig(beta * Dc[i]) - logSig(-beta * Dr[i]));
      break;
    case 'sppo_hard':
      for (let i = 0; i < B; i++) perPair.push((Dc[i] - 1 / (2 * beta)) ** 2 + (Dr[i] + 1 / (2 * beta)) ** 2);
      break;
    case 'aot': {
      const a = sortAsc(pc.map((v, i) => v - pr[i]));
      const b = sortAsc(rc.map((v, i) => v - rr[i]));
      for (let i = 0; i < B; i++) perPair.push(cdpo(beta * (a[i] - b[i])));
      break;
    }
    case 'aot_unpaired': {
      const a = sortAsc(Dc);
      const b = sortAsc(Dr);
      for (let i = 0; i < B; i++) perPair.push(cdpo(beta * (a[i] - b[i])));
      break;
    }
    case 'apo_zero':
      for (let i = 0; i < B; i++) perPair.push(1 - sig(beta * Dc[i]) + sig(beta * Dr[i]));
      break;
    case 'apo_down':
      for (let i = 0; i < B; i++) perPair.push(sig(beta * Dc[i]) + 1 - sig(beta * (Dc[i] - Dr[i])));
      break;
    case 'discopop':
      for (let i = 0; i < B; i++) {
        const z = beta * (Dc[i] - Dr[i]);
        const m = sig(z / c.tau);
        perPair.push((1 - m) * -logSig(z) + m * Math.exp(-z));
      }
      break;
    case 'sigmoid_norm':
      for (let i = 0; i < B; i++) perPair.push(-logSig(beta * (Dc[i] / lc[i] - Dr[i] / lr[i])));
      break;
    case 'sft':
      return nll;
    case 'simpo':
      for (let i = 0; i < B; i++) {
        const z = beta * (pc[i] / lc[i] - pr[i] / lr[i]) - c.gamma;
        perPair.push(c.simpoHinge ? Math.max(0, 1 - z) : cdpo(z));
      }
      return avg(perPair);
    case 'cpo':
      for (let i = 0; i < B; i++) perPair.push(cdpo(beta * (pc[i] - pr[i])));
      return avg(perPair) + c.alpha * nll;
    case 'orpo': {
      for (let i = 0; i < B; i++) {
        const mc = pc[i] / lc[i];
        const mr = pr[i] / lr[i];
        const logOdds = mc - mr - (log1mexpRef(mc) - log1mexpRef(mr));
        perPair.push(logSig(logOdds));
      }
      return nll - beta * avg(perPair);
    }
    default:
      throw new Error(`scalar reference: unknown loss ${name}`);
  }
  const w = c.wpo;
  return avg(perPair.map((l, i) => (w ? l * w[i] : l)));
}

export interface ScalarUnpaired {
  policy: number[];
  ref: number[];
  desirable: number[];
  klPolicy: number[];
  klRef: number[];
}

/** KTO with z0 frozen at `z0` (the implementation treats it as a constant). */
export function scalarKto(x: ScalarUnpaired, beta: number, lD: number, lU: number, z0: number): number {
  const losses = x.policy.map((p, i) => {
    const d = p - x.ref[i];
    return x.desirable[i] === 1 ? lD * (1 - sig(beta * (d - z0))) : lU * (1 - sig(beta * (z0 - d)));
  });
  return avg(losses);
}

export const ktoZ0Ref = (x: ScalarUnpaired): number => Math.max(0, avg(x.klPolicy.map((p, i) => p - x.klRef[i])));

/**
 * ∂f/∂x_k for every k by central differences with one Richardson step (error O(h⁴)), in float64.
 * Independent of the engine: f is evaluated on perturbed copies of plain arrays.
 */
export function richardsonGradient(f: (x: number[]) => number, x: readonly number[], h = 1e-3): number[] {
  return x.map((_, k) => {
    const at = (delta: number) => {
      const y = [...x];
      y[k] += delta;
      return f(y);
    };
    const d = (s: number) => (at(s) - at(-s)) / (2 * s);
    return (4 * d(h / 2) - d(h)) / 3;
  });
}
