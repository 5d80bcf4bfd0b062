import { formatShape } from '@ganpo/kernels';
import type { Buf, Shape } from '@ganpo/kernels';
import { Tensor } from './tensor.js';

/**
 * The gradient tape. Every op output that depends on a tensor requiring gradient records a Node:
 * the op's name, its inputs and its vector-Jacobian product. The vjp is written with other ops,
 * so running it with recording on (create-graph) gives gradients of gradients.
 */
export interface Node {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Maps the cotangent of the output to one cotangent per input (null where an input needs none). */
  readonly vjp: (g: Tensor) => readonly (Tensor | null)[];
}

/**
 * Recording flags, one set per process: kept on globalThis under a registered symbol so that the ESM and CJS
 * builds of this package, loaded side by side, agree on whether recording is on (noGrad in one holds in the other).
 */
interface TapeFlags {
  gradEnabled: boolean;
  anomalyMode: boolean;
}
const TAPE_KEY = Symbol.for('@ganpo/autograd/tape');
const flags: TapeFlags = ((globalThis as Record<symbol, TapeFlags | undefined>)[TAPE_KEY] ??= { gradEnabled: true, anomalyMode: false });

export const isGradEnabled = (): boolean => flags.gradEnabled;

/** Runs `fn` without recording: outputs carry no gradient (inference, reference models, EMA updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradEnabled(false, fn);
}

export function withGradEnabled<T>(enabled: boolean, fn: () => T): T {
  const previous = flags.gradEnabled;
  flags.gradEnabled = enabled;
  try {
    return fn();
  } finally {
    flags.gradEnabled = previous;
  }
}

/** Anomaly mode: every op output and every gradient is checked, and the first NaN or Inf throws naming the op. */
export function setAnomalyMode(enabled: boolean): void {
  flags.anomalyMode = enabled;
}
export const isAnomalyMode = (): boolean => flags.anomalyMode;

export function withAnomalyMode<T>(fn: () => T): T {
  const previous = flags.anomalyMode;
  flags.anomalyMode = true;
  try {
    return fn();
  } finally {
    flags.anomalyMode = previous;
  }
}

export class AnomalyError extends Error {
  override name = 'AnomalyError';
}

/** The op whose vjp is running, so that an anomaly inside a backward pass names the op being differentiated. */
let inBackwardOf: string | null = null;

function checkFinite(where: string, op: string, data: Buf, inputs: readonly Tensor[]): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const shapes = inputs.map((t) => formatShape(t.shape)).join(', ');
      const context = inBackwardOf && where === 'forward' ? `op '${inBackwardOf}' produced ${data[i]} in its backward (inside '${op}')` : `op '${op}' produced ${data[i]} in its ${where}`;
      throw new AnomalyError(`anomaly: ${context} at flat index ${i} (input shapes ${shapes})`);
    }
  }
}

/**
 * Wraps a kernel result as the output of op `op`. When recording and some input requires gradient,
 * the output remembers how to pass gradients back.
 */
export function record(
  op: string,
  data: Buf,
  shape: Shape,
  inputs: readonly Tensor[],
  vjp: (g: Tensor, out: Tensor) => readonly (Tensor | null)[],
): Tensor {
  if (flags.anomalyMode) checkFinite('forward', op, data, inputs);
  const needsGrad = flags.gradEnabled && inputs.some((t) => t.requiresGrad);
  if (!needsGrad) return new Tensor(data, shape, null);
  const node: { op: string; inputs: readonly Tensor[]; vjp: (g: Tensor) => readonly (Tensor | null)[] } = {
    op,
    inputs,
    vjp: () => [],
  };
  const out = new Tensor(data, shape, node);
  node.vjp = (g) => vjp(g, out);
  return out;
}

/** A constant (no gradient) result of a kernel. */
export const constant = (data: Buf, shape: Shape): Tensor => new Tensor(data, shape, null);

/** Tensors reachable from `outputs` through recorded nodes, in an order where each comes after all its consumers. */
function reverseTopological(outputs: readonly Tensor[], stopAt: ReadonlySet<Tensor>): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS (deep graphs, e.g. long training unrolls, must not overflow the stack).
  const stack: [Tensor, boolean][] = outputs.map((t) => [t, false]);
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    if (t.node && !stopAt.has(t)) {
      for (const input of t.node.inputs) if (input.requiresGrad && !seen.has(input)) stack.push([input, false]);
    }
  }
  return order.reverse();
}

export interface GradientOptions {
  /** Record the backward pass itself, so the returned gradients can be differentiated again. */
  createGraph?: boolean;
  /** Allow inputs that the outputs do not depend on (their gradient is zeros). */
  allowUnused?: boolean;
}

/**
 * Gradients of sum_i <seeds_i, outputs_i> with respect to `inputs` (torch.autograd.grad).
 * Seeds default to ones for scalar outputs.
 */
export function gradients(
  outputs: Tensor | readonly Tensor[],
  inputs: readonly Tensor[],
  seeds?: readonly Tensor[],
  options: GradientOptions = {},
): Tensor[] {
  const outs = Array.isArray(outputs) ? (outputs as readonly Tensor[]) : [outputs as Tensor];
  const cotangents = seeds ?? outs.map((o) => seedFor(o));
  const grads = accumulateGradients(outs, cotangents, new Set(inputs), options.createGraph ?? false);
  return inputs.map((x, i) => {
    const g = grads.get(x);
    if (g) return g;
    // Differentiating with respect to a tensor the outputs never used is usually a mistake.
    if (!options.allowUnused) throw new Error(`gradients: input ${i} (shape ${formatShape(x.shape)}) is not used by the outputs`);
    return Tensor.zeros(x.shape, x.dtype);
  });
}

function seedFor(output: Tensor): Tensor {
  if (output.size !== 1) {
    throw new Error(`backward: output of shape ${formatShape(output.shape)} is not a scalar; pass a cotangent of the same shape`);
  }
  return Tensor.ones(output.shape, output.dtype);
}

function accumulateGradients(
  outputs: readonly Tensor[],
  seeds: readonly Tensor[],
  stopAt: ReadonlySet<Tensor>,
  createGraph: boolean,
): Map<Tensor, Tensor> {
  return withGradEnabled(createGraph, () => {
    const grads = new Map<Tensor, Tensor>();
    const add = (t: Tensor, g: Tensor) => {
      const prev = grads.get(t);
      grads.set(t, prev ? prev.add(g) : g);
    };
    outputs.forEach((o, i) => {
      if (seeds[i].shape.length !== o.shape.length || seeds[i].shape.some((d, j) => d !== o.shape[j])) {
        throw new Error(`backward: cotangent shape ${formatShape(seeds[i].shape)} differs from output shape ${formatShape(o.shape)}`);
      }
      add(o, seeds[i]);
    });
    for (const t of reverseTopological(outputs, stopAt)) {
      const g = grads.get(t);
      if (!g || !t.node || stopAt.has(t)) continue;
      const outer = inBackwardOf;
      inBackwardOf = t.node.op;
      let inputGrads: readonly (Tensor | null)[];
      try {
        inputGrads = t.node.vjp(g);
      } finally {
        inBackwardOf = outer;
      }
      t.node.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!gi || !input.requiresGrad) return;
        if (flags.anomalyMode) checkFinite(`backward (gradient for input ${i})`, t.node!.op, gi.data, t.node!.inputs);
        add(input, gi);
      });
      // Free intermediate gradients as soon as they are consumed (keeps backward memory bounded).
      if (!stopAt.has(t)) grads.delete(t);
    }
    return grads;
  });
}

/** PyTorch-style backward: accumulates d(output)/d(leaf) into every reachable leaf's `.grad`. */
export function backward(output: Tensor, seed?: Tensor, options: { createGraph?: boolean } = {}): void {
  const leaves = reverseTopological([output], new Set()).filter((t) => !t.node && t.requiresGrad);
  const grads = gradients([output], leaves, [seed ?? seedFor(output)], { ...options, allowUnused: true });
  leaves.forEach((leaf, i) => {
    leaf.grad = leaf.grad ? leaf.grad.add(grads[i]).detach() : options.createGraph ? grads[i] : grads[i].detach();
  });
}

type TensorArgs = readonly Tensor[];

/** Marks inputs for differentiation without touching the caller's tensors. */
function asDifferentiable(x: Tensor): Tensor {
  return x.requiresGrad ? x : x.detach().requireGrad();
}

export interface ValueAndGrad<Aux> {
  value: Tensor;
  grads: Tensor[];
  aux: Aux;
}

/**
 * JAX-style valueAndGrad: f maps tensors to a scalar (or [scalar, aux] with hasAux); the result returns the value
 * and the gradient with respect to every argument. Inside an outer differentiation the graph is kept,
 * so grad(grad(f)) works.
 */
export function valueAndGrad(f: (...args: Tensor[]) => Tensor): (...args: Tensor[]) => ValueAndGrad<undefined>;
export function valueAndGrad<Aux>(
  f: (...args: Tensor[]) => [Tensor, Aux],
  options: { hasAux: true },
): (...args: Tensor[]) => ValueAndGrad<Aux>;
export function valueAndGrad(f: (...args: Tensor[]) => unknown, options: { hasAux?: boolean } = {}) {
  return (...args: TensorArgs) => {
    const nested = args.some((a) => a.requiresGrad) && isGradEnabled();
    const xs = args.map(asDifferentiable);
    const result = withGradEnabled(true, () => f(...xs));
    const [value, aux] = options.hasAux ? (result as [Tensor, unknown]) : [result as Tensor, undefined];
    const grads = gradients([value], xs, undefined, { createGraph: nested, allowUnused: true });
    return { value: nested ? value : value.detach(), grads, aux };
  };
}

/** JAX-style grad: the gradients of a scalar function with respect to all its arguments. */
export function grad(f: (...args: Tensor[]) => Tensor): (...args: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f);
  return (...args) => vg(...args).grads;
}

/**
 * JAX-style vjp: evaluates f at the inputs and returns its output with a function mapping an output
 * cotangent to the input cotangents. The pullback keeps the graph when called inside an outer differentiation.
 */
export function vjp(
  f: (...args: Tensor[]) => Tensor,
  ...inputs: Tensor[]
): { out: Tensor; pullback: (cotangent: Tensor, options?: { createGraph?: boolean }) => Tensor[] } {
  const nested = inputs.some((a) => a.requiresGrad) && isGradEnabled();
  const xs = inputs.map(asDifferentiable);
  const out = withGradEnabled(true, () => f(...xs));
  return {
    out: nested ? out : out.detach(),
    pullback: (cotangent, options = {}) =>
      gradients([out], xs, [cotangent], {
        createGraph: options.createGraph ?? (nested || cotangent.requiresGrad),
        allowUnused: true,
      }),
  };
}

/**
 * Defines a differentiable op from a forward computation and its vector-Jacobian product:
 * the way users add their own ops (and check them with gradcheck). The forward runs without
 * recording; the vjp should be written with ops so that it is differentiable in turn.
 */
export function customOp(
  name: string,
  forward: (...inputs: Tensor[]) => Tensor,
  vjp: (g: Tensor, out: Tensor, inputs: readonly Tensor[]) => readonly (Tensor | null)[],
): (...inputs: Tensor[]) => Tensor {
  return (...inputs) => {
    const out = noGrad(() => forward(...inputs));
    return record(name, out.raw, out.shape, inputs, (g, o) => vjp(g, o, inputs));
  };
}
