/**
 * Running means of critic scores (the m in RaGAN's C(h) − m), as explicit state: plain numbers, never tensors,
 * because they carry no gradient. docs/method.md §3: `ema` keeps m ← μ·m + (1 − μ)·mean_batch, initialised with the
 * first batch mean (the reference implementation, μ = 0.9); `batch` uses the current batch mean (the paper).
 */
export type MeanMode = 'ema' | 'batch';

export interface MeanOptions {
  mode: MeanMode;
  /** μ in [0, 1) for `ema` (default 0.9). */
  momentum?: number;
}

/** One mean's update: `batchMean` is the mean score of the current batch. */
export function updateMean(previous: number | undefined, batchMean: number, options: MeanOptions): number {
  const { mode, momentum = 0.9 } = options;
  if (!(momentum >= 0 && momentum < 1)) throw new Error(`updateMean: momentum = ${momentum} must be in [0, 1)`);
  if (mode === 'batch' || previous === undefined) return batchMean;
  if (mode !== 'ema') throw new Error(`updateMean: unknown mode '${mode as string}' (expected 'ema' or 'batch')`);
  return momentum * previous + (1 - momentum) * batchMean;
}

/** Updates a record of means key by key (`previous` undefined before the first batch). A new object. */
export function updateMeans<T extends { readonly [K in keyof T]: number }>(previous: T | undefined, batchMeans: T, options: MeanOptions): T {
  const out: Partial<Record<keyof T, number>> = {};
  for (const k of Object.keys(batchMeans) as (keyof T)[]) out[k] = updateMean(previous?.[k], batchMeans[k], options);
  return out as T;
}

/** The three means C_w keeps (m_w(R_w), m_w(P_w), m_w(R_l)). */
export interface ChosenMeans {
  readonly refChosen: number;
  readonly policyChosen: number;
  readonly refRejected: number;
}

/** The three means C_l keeps (m_l(R_l), m_l(P_l), m_l(R_w)). */
export interface RejectedMeans {
  readonly refRejected: number;
  readonly policyRejected: number;
  readonly refChosen: number;
}

/** All running means of the GANPO regularizer (`rejected` absent with a single discriminator). */
export interface GanpoMeans {
  readonly chosen: ChosenMeans;
  readonly rejected?: RejectedMeans;
}
