import type { BinaryOp, UnaryOp } from '../types.js';

/**
 * Scalar helper functions compiled into gpu.js kernels, and the expression each unary/binary op
 * becomes inside a kernel. Every helper is plain kernel JavaScript that gpu.js can translate to
 * GLSL ES 1.00, WebAssembly and JS alike: only `Math.*` functions gpu.js supports, float literals
 * written with a decimal point, no closures.
 *
 * Numerics are written for float32 and for shader compilers that reassociate: GLSL compilers
 * (ANGLE → Mesa here) rewrite `(1 + v) - 1` to `v`, so the classic log1p trick is not used;
 * small arguments go through short Taylor series instead.
 */

/** A helper as gpu.js's `functions` setting takes it: source plus explicit types. */
export interface KernelFunction {
  source: string;
  settings: { argumentTypes: Record<string, 'Number'>; returnType: 'Number' };
}

const fn1 = (source: string): KernelFunction => ({
  source,
  settings: { argumentTypes: { v: 'Number' }, returnType: 'Number' },
});
const fn2 = (source: string): KernelFunction => ({
  source,
  settings: { argumentTypes: { a: 'Number', b: 'Number' }, returnType: 'Number' },
});

/** Helper sources by name. Dependencies are listed in HELPER_DEPS so a kernel only compiles what it uses. */
export const HELPERS: Record<string, KernelFunction> = {
  // log(1 + v): series below |v| < 1/16 (error < v^9/9), log(1 + v) above (relative error < 1e-6).
  gp_log1p: fn1(`function gp_log1p(v) {
  if (Math.abs(v) < 0.0625) {
    return v * (1.0 - v * (0.5 - v * (0.3333333333333333 - v * (0.25 - v * (0.2 - v * (0.16666666666666666 - v * (0.14285714285714285 - v * 0.125)))))));
  }
  return Math.log(1.0 + v);
}`),
  // tanh: odd series for |v| < 0.125, (1 - e^{-2|v|}) / (1 + e^{-2|v|}) up to 9, then ±1.
  gp_tanh: fn1(`function gp_tanh(v) {
  const a = Math.abs(v);
  let t = 1.0;
  if (a < 0.125) {
    const s = a * a;
    t = a * (1.0 - s * (0.3333333333333333 - s * (0.13333333333333333 - s * (0.05396825396825397 - s * 0.021869488536155203))));
  } else if (a < 9.0) {
    const e = Math.exp(-2.0 * a);
    t = (1.0 - e) / (1.0 + e);
  }
  if (v < 0.0) {
    return -t;
  }
  return t;
}`),
  gp_sigmoid: fn1(`function gp_sigmoid(v) {
  if (v >= 0.0) {
    return 1.0 / (1.0 + Math.exp(-v));
  }
  const e = Math.exp(v);
  return e / (1.0 + e);
}`),
  // softplus(v) = max(v, 0) + log1p(exp(-|v|)): never overflows.
  gp_softplus: fn1(`function gp_softplus(v) {
  const m = v > 0.0 ? v : 0.0;
  return m + gp_log1p(Math.exp(-Math.abs(v)));
}`),
  // erfc for v >= 0 from the Numerical Recipes Chebyshev fit (relative error < 1.2e-7).
  gp_erfc_pos: fn1(`function gp_erfc_pos(v) {
  const t = 1.0 / (1.0 + 0.5 * v);
  const p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(-v * v + p);
}`),
  // erf: Maclaurin series for |v| < 1 (16 terms, error < 1e-12), 1 - erfc beyond.
  gp_erf: fn1(`function gp_erf(v) {
  const a = Math.abs(v);
  if (a < 1.0) {
    const s = v * v;
    let term = v;
    let sum = v;
    for (let n = 1; n < 16; n++) {
      term = -term * s / n;
      sum += term / (2.0 * n + 1.0);
    }
    return 1.1283791670955126 * sum;
  }
  const r = 1.0 - gp_erfc_pos(a);
  if (v < 0.0) {
    return -r;
  }
  return r;
}`),
  // erfc(v) for any v, accurate in the tail (used by geluErf so 0.5·x·erfc(−x/√2) keeps its digits for x ≪ 0).
  gp_erfc: fn1(`function gp_erfc(v) {
  if (Math.abs(v) < 1.0) {
    return 1.0 - gp_erf(v);
  }
  if (v > 0.0) {
    return gp_erfc_pos(v);
  }
  return 2.0 - gp_erfc_pos(-v);
}`),
  // Math.pow with JavaScript's semantics where GLSL's pow is undefined (negative base, zero base).
  gp_pow: fn2(`function gp_pow(a, b) {
  if (b == 0.0) {
    return 1.0;
  }
  if (a > 0.0) {
    return Math.pow(a, b);
  }
  const r = Math.floor(b);
  const odd = r == b && Math.floor(r * 0.5) != r * 0.5;
  if (a == 0.0) {
    if (b > 0.0) {
      return odd ? a : 0.0;
    }
    if (odd && 1.0 / a < 0.0) {
      return 1.0 / a;
    }
    return 1.0 / Math.abs(a);
  }
  if (r != b) {
    return (a - a) / (a - a);
  }
  const m = Math.pow(-a, b);
  if (odd) {
    return -m;
  }
  return m;
}`),
};

const HELPER_DEPS: Record<string, string[]> = {
  gp_softplus: ['gp_log1p'],
  gp_erf: ['gp_erfc_pos'],
  gp_erfc: ['gp_erf', 'gp_erfc_pos'],
};

/** The helpers (with their dependencies, dependencies first) that a kernel body needs. */
export function helpersFor(body: string): KernelFunction[] {
  const names: string[] = [];
  const visit = (name: string): void => {
    if (names.includes(name)) return;
    for (const dep of HELPER_DEPS[name] ?? []) visit(dep);
    names.push(name);
  };
  for (const name of Object.keys(HELPERS)) {
    if (new RegExp(`\\b${name}\\(`).test(body)) visit(name);
  }
  return names.map((n) => HELPERS[n]);
}

/** The kernel expression of a unary op applied to the variable `v`. */
export function unaryExpr(op: UnaryOp, v = 'v'): string {
  switch (op) {
    case 'neg': return `-${v}`;
    case 'exp': return `Math.exp(${v})`;
    case 'log': return `Math.log(${v})`;
    case 'log1p': return `gp_log1p(${v})`;
    case 'sqrt': return `Math.sqrt(${v})`;
    case 'rsqrt': return `1.0 / Math.sqrt(${v})`;
    case 'abs': return `Math.abs(${v})`;
    case 'sign': return `(${v} > 0.0 ? 1.0 : (${v} < 0.0 ? -1.0 : 0.0))`;
    case 'tanh': return `gp_tanh(${v})`;
    case 'sigmoid': return `gp_sigmoid(${v})`;
    case 'relu': return `(${v} > 0.0 ? ${v} : 0.0)`;
    case 'softplus': return `gp_softplus(${v})`;
    case 'logSigmoid': return `-gp_softplus(-${v})`;
    case 'geluTanh': return `0.5 * ${v} * (1.0 + gp_tanh(0.7978845608028654 * (${v} + 0.044715 * ${v} * ${v} * ${v})))`;
    case 'geluErf': return `0.5 * ${v} * gp_erfc(-0.7071067811865476 * ${v})`;
    case 'erf': return `gp_erf(${v})`;
    case 'square': return `${v} * ${v}`;
    case 'reciprocal': return `1.0 / ${v}`;
    case 'sin': return `Math.sin(${v})`;
    case 'cos': return `Math.cos(${v})`;
  }
}

/** The kernel expression of a binary op on the variables `a` and `b`; comparisons give 1.0 or 0.0. */
export function binaryExpr(op: BinaryOp, a = 'a', b = 'b'): string {
  switch (op) {
    case 'add': return `${a} + ${b}`;
    case 'sub': return `${a} - ${b}`;
    case 'mul': return `${a} * ${b}`;
    case 'div': return `${a} / ${b}`;
    case 'pow': return `gp_pow(${a}, ${b})`;
    // NaN in `a` wins, as in the reference (a >= b || isNaN(a) ? a : b).
    case 'maximum': return `((${a} >= ${b} || ${a} != ${a}) ? ${a} : ${b})`;
    case 'minimum': return `((${a} <= ${b} || ${a} != ${a}) ? ${a} : ${b})`;
    case 'eq': return `(${a} == ${b} ? 1.0 : 0.0)`;
    case 'ne': return `(${a} != ${b} ? 1.0 : 0.0)`;
    case 'lt': return `(${a} < ${b} ? 1.0 : 0.0)`;
    case 'le': return `(${a} <= ${b} ? 1.0 : 0.0)`;
    case 'gt': return `(${a} > ${b} ? 1.0 : 0.0)`;
    case 'ge': return `(${a} >= ${b} ? 1.0 : 0.0)`;
  }
}
