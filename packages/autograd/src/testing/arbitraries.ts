import fc from 'fast-check';
import { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';

/** Value domains for random inputs: each op is checked where it is differentiable. */
export type Domain = 'any' | 'positive' | 'awayFromZero' | 'unit';

/** A shape of rank 0–3 with dimensions 1–3 (size-1 dimensions included on purpose). */
export const shapeArb = (maxRank = 3, maxDim = 3) =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 0, maxLength: maxRank });

/** Two shapes that broadcast: the second drops leading axes of the first and turns some to 1; order random. */
export const broadcastPairArb = (maxRank = 3) =>
  shapeArb(maxRank).chain((s) =>
    fc
      .tuple(fc.integer({ min: 0, max: s.length }), fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }), fc.boolean())
      .map(([drop, ones, swap]) => {
        const other = s.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
        return swap ? ([other, s] as const) : ([s, other] as const);
      }),
  );

export const seedArb = fc.integer({ min: 1, max: 2 ** 30 });

/** A float64 tensor with values drawn from `domain`. */
export function randomTensor(shape: readonly number[], seed: number, domain: Domain = 'any'): Tensor {
  const rng = Rng.seeded(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    data[i] =
      domain === 'positive' ? 0.3 + 1.7 * u
      : domain === 'awayFromZero' ? sign * (0.2 + 1.5 * u)
      : domain === 'unit' ? 2 * u - 1
      : rng.normal();
  }
  return new Tensor(data, shape, null);
}
