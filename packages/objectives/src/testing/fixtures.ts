import { Tensor, tensor } from '@ganpo/autograd';
import type { DType } from '@ganpo/autograd';
import type { PairLogps, UnpairedLogps } from '../types.js';
import type { ScalarPair, ScalarTokens, ScalarUnpaired } from './scalar-reference.js';

/**
 * The committed conformance inputs. Sequence-level: a batch of 4 pairs with distinct lengths, margins of both signs,
 * and no ties in the sorted differences (AOT). Token-level: 3 pairs of 6 positions; masks leave out a prompt position
 * or padding, and the masked-out positions hold non-zero values on purpose (they must not count).
 */
export const SEQUENCE_PAIRS: ScalarPair = {
  policyChosen: [-12.3, -40.1, -7.7, -25.0],
  policyRejected: [-15.2, -38.4, -9.9, -31.6],
  refChosen: [-13.0, -39.0, -8.1, -27.2],
  refRejected: [-14.1, -39.5, -11.05, -27.9],
  chosenLengths: [5, 17, 3, 11],
  rejectedLengths: [7, 15, 4, 13],
};

const MASK_CHOSEN = [
  [0, 1, 1, 1, 0, 0],
  [1, 1, 1, 1, 1, 0],
  [0, 0, 1, 1, 1, 1],
];
const MASK_REJECTED = [
  [0, 1, 1, 1, 1, 1],
  [1, 1, 0, 0, 0, 0],
  [0, 0, 1, 1, 1, 1],
];

export const TOKENS: ScalarTokens = {
  policyChosen: [
    [-3.3, -0.9, -1.7, -0.4, -2.2, -5.0],
    [-0.6, -2.1, -0.3, -1.1, -0.8, -4.4],
    [-7.1, -2.9, -0.5, -1.4, -0.2, -0.95],
  ],
  policyRejected: [
    [-3.3, -1.5, -0.7, -2.6, -1.9, -0.35],
    [-1.3, -2.4, -6.0, -6.0, -6.0, -6.0],
    [-7.1, -0.8, -2.2, -1.0, -3.1, -0.45],
  ],
  refChosen: [
    [-3.1, -1.2, -1.5, -0.7, -2.0, -4.0],
    [-0.9, -1.8, -0.6, -1.0, -1.1, -4.1],
    [-6.0, -2.5, -0.9, -1.2, -0.6, -1.05],
  ],
  refRejected: [
    [-3.1, -1.1, -1.0, -2.2, -1.6, -0.55],
    [-1.0, -2.0, -5.0, -5.0, -5.0, -5.0],
    [-6.0, -1.1, -1.8, -1.3, -2.7, -0.75],
  ],
  maskChosen: MASK_CHOSEN,
  maskRejected: MASK_REJECTED,
  logSumSquaredProbsChosen: [
    [-0.5, -1.1, -0.9, -0.3, -2.0, -1.0],
    [-0.7, -1.6, -0.2, -0.8, -0.6, -1.0],
    [-1.0, -2.2, -0.4, -1.3, -0.15, -0.7],
  ],
  logSumSquaredProbsRejected: [
    [-0.5, -1.4, -0.5, -1.9, -1.2, -0.3],
    [-1.1, -1.9, -1.0, -1.0, -1.0, -1.0],
    [-1.0, -0.6, -1.7, -0.9, -2.0, -0.4],
  ],
};

const maskedSum = (rows: number[][], mask: number[][]) => rows.map((r, b) => r.reduce((a, v, t) => a + mask[b][t] * v, 0));
const count = (mask: number[][]) => mask.map((r) => r.reduce((a, v) => a + v, 0));

/** The token fixture's sequence-level view: sums of the masked token log-probs, and the token counts. */
export const TOKEN_PAIRS: ScalarPair = {
  policyChosen: maskedSum(TOKENS.policyChosen, MASK_CHOSEN),
  policyRejected: maskedSum(TOKENS.policyRejected, MASK_REJECTED),
  refChosen: maskedSum(TOKENS.refChosen!, MASK_CHOSEN),
  refRejected: maskedSum(TOKENS.refRejected!, MASK_REJECTED),
  chosenLengths: count(MASK_CHOSEN),
  rejectedLengths: count(MASK_REJECTED),
  tokens: TOKENS,
};

export const UNPAIRED: ScalarUnpaired = {
  policy: [-11.2, -30.5, -8.8, -19.4, -25.1],
  ref: [-12.0, -29.0, -9.6, -18.2, -26.3],
  desirable: [1, 0, 1, 0, 0],
  klPolicy: [-14.0, -33.2, -12.5, -22.0, -27.7],
  klRef: [-14.9, -33.0, -13.9, -22.8, -28.1],
};

// ---------------------------------------------------------------------------------------------------------
// Flat views: every input tensor as one named slice of a flat vector (for finite differences and gradients).

export interface Field {
  path: string;
  shape: number[];
  values: number[];
}

/** The tensor fields of a ScalarPair, in a fixed order (optional ones only when present). */
export function pairFields(x: ScalarPair): Field[] {
  const fields: Field[] = [];
  const vec = (path: string, v?: number[]) => v && fields.push({ path, shape: [v.length], values: [...v] });
  const mat = (path: string, m?: number[][]) => m && fields.push({ path, shape: [m.length, m[0].length], values: m.flat() });
  vec('policyChosen', x.policyChosen);
  vec('policyRejected', x.policyRejected);
  vec('refChosen', x.refChosen);
  vec('refRejected', x.refRejected);
  vec('chosenLengths', x.chosenLengths);
  vec('rejectedLengths', x.rejectedLengths);
  if (x.tokens) {
    for (const key of Object.keys(x.tokens) as (keyof ScalarTokens)[]) mat(`tokens.${key}`, x.tokens[key]);
  }
  return fields;
}

/** Rebuilds a ScalarPair from fields whose values may have been perturbed. */
export function scalarPairFrom(fields: readonly Field[]): ScalarPair {
  const out: Record<string, unknown> = {};
  const tokens: Record<string, number[][]> = {};
  for (const f of fields) {
    if (f.path.startsWith('tokens.')) {
      const [rows, cols] = f.shape;
      tokens[f.path.slice(7)] = Array.from({ length: rows }, (_, r) => f.values.slice(r * cols, (r + 1) * cols));
    } else out[f.path] = f.values;
  }
  if (Object.keys(tokens).length > 0) out.tokens = tokens;
  return out as unknown as ScalarPair;
}

/** Tensors for the fields (float64 unless asked), in the same order. */
export const fieldTensors = (fields: readonly Field[], dtype: DType = 'float64'): Tensor[] =>
  fields.map((f) => tensor(f.values, { shape: f.shape, dtype }));

/** A PairLogps from tensors in `pairFields` order. */
export function pairLogpsFrom(fields: readonly Field[], tensors: readonly Tensor[]): PairLogps {
  const out: Record<string, unknown> = {};
  const tokens: Record<string, Tensor> = {};
  fields.forEach((f, i) => {
    if (f.path.startsWith('tokens.')) tokens[f.path.slice(7)] = tensors[i];
    else out[f.path] = tensors[i];
  });
  if (Object.keys(tokens).length > 0) out.tokens = tokens;
  return out as unknown as PairLogps;
}

/** A PairLogps straight from a ScalarPair. */
export function toPairLogps(x: ScalarPair, dtype: DType = 'float64'): PairLogps {
  const fields = pairFields(x);
  return pairLogpsFrom(fields, fieldTensors(fields, dtype));
}

export function toUnpairedLogps(x: ScalarUnpaired, dtype: DType = 'float64'): UnpairedLogps {
  const t = (v: number[]) => tensor(v, { dtype });
  return { policy: t(x.policy), ref: t(x.ref), desirable: t(x.desirable), klPolicy: t(x.klPolicy), klRef: t(x.klRef) };
}
