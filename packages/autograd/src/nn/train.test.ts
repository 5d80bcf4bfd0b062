import { describe, expect, it } from 'vitest';
import {
  AdamW, MLP, Rng, Tensor, crossEntropy, indices, mean, noGrad, sum, tensor, cosineWithWarmup, clipGradNorm,
} from '../index.js';
import { TinyLM } from '../testing/tiny-lm.js';
import { bitEqual } from './test-helpers.js';

// End-to-end: the engine, the modules and the optimizer together learn small tasks within seconds.

describe('training', () => {
  it('a small MLP learns XOR with AdamW', () => {
    const rng = Rng.seeded(0);
    const mlp = new MLP([2, 8, 1], { rng, activation: 'tanh' });
    const opt = new AdamW(mlp.namedParameters(), { lr: 0.05, weightDecay: 0 });
    const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const y = tensor([[0], [1], [1], [0]]);
    let loss = Infinity;
    for (let step = 0; step < 300; step++) {
      opt.zeroGrad();
      const l = mean(mlp.forward(x).sub(y).square());
      l.backward();
      opt.step();
      loss = l.item();
    }
    expect(loss).toBeLessThan(0.05);
    const pred = noGrad(() => mlp.forward(x)).toFlat().map((v) => (v > 0.5 ? 1 : 0));
    expect(pred).toEqual([0, 1, 1, 0]);
  });

  const V = 6;
  const SEP = V;
  const L = 4;

  /** Every sequence of L symbols from V, shuffled with a fixed seed and split into train and held-out. */
  function dataset(seed: number) {
    const all: number[][] = [];
    for (let n = 0; n < V ** L; n++) all.push(Array.from({ length: L }, (_, i) => Math.floor(n / V ** i) % V));
    const shuffled = Rng.seeded(seed).shuffle(all);
    return { train: shuffled.slice(200), heldOut: shuffled.slice(0, 200) };
  }

  /** Input a1..aL SEP b1..b(L−1), targets −1 (ignored) on the prompt and b1..bL after SEP. */
  function batch(seqs: number[][], target: (a: number[]) => number[]) {
    const ids: number[] = [];
    const tgt: number[] = [];
    for (const a of seqs) {
      const b = target(a);
      ids.push(...a, SEP, ...b.slice(0, L - 1));
      tgt.push(...Array(L).fill(-1), ...b);
    }
    return { ids: indices(ids, [seqs.length, 2 * L]), targets: indices(tgt, [seqs.length, 2 * L]) };
  }

  /** Greedy decoding of the L answer tokens, one at a time from the model's own previous outputs. */
  function greedyAccuracy(model: TinyLM, seqs: number[][], target: (a: number[]) => number[]): number {
    model.eval();
    let correct = 0;
    noGrad(() => {
      const rows = seqs.map((a) => [...a, SEP]);
      for (let k = 0; k < L; k++) {
        const t = rows[0].length;
        const logits = model.forward(indices(rows.flat(), [rows.length, t]));
        rows.forEach((row, r) => {
          const o = (r * t + t - 1) * (V + 1);
          let best = 0;
          for (let c = 1; c <= V; c++) if (logits.data[o + c] > logits.data[o + best]) best = c;
          row.push(best);
        });
      }
      rows.forEach((row, r) => {
        if (row.slice(L + 1).join() === target(seqs[r]).join()) correct++;
      });
    });
    model.train();
    return correct / seqs.length;
  }

  const tasks: [string, (a: number[]) => number[]][] = [
    ['reverse', (a) => a.slice().reverse()],
    ['copy', (a) => a.slice()],
  ];
  for (const [task, target] of tasks) {
    it(`a 2-layer causal transformer learns to ${task} sequences of ${L} over ${V} symbols (held-out greedy accuracy ≥ 0.9)`, () => {
      const rng = Rng.seeded(1);
      const model = new TinyLM(V + 1, 2 * L, 16, rng, { std: 0.3, ffMult: 2 });
      const { train, heldOut } = dataset(2);
      const steps = 150;
      const opt = new AdamW(model.namedParameters(), { lr: 1e-2, weightDecay: 0.01, schedule: cosineWithWarmup({ lr: 1e-2, warmupSteps: 20, totalSteps: steps, minLr: 1e-3 }) });
      const sampler = Rng.seeded(3);
      let loss = Infinity;
      for (let step = 0; step < steps; step++) {
        const picks = Array.from({ length: 32 }, () => train[sampler.int(0, train.length - 1)]);
        const { ids, targets } = batch(picks, target);
        opt.zeroGrad();
        const l = sum(crossEntropy(model.forward(ids), targets)).div(32 * L);
        l.backward();
        clipGradNorm(model.parameters(), 1);
        opt.step();
        loss = l.item();
      }
      const acc = greedyAccuracy(model, heldOut, target);
      console.log(`transformer ${task}: final train loss ${loss.toFixed(4)}, held-out greedy sequence accuracy ${acc}`);
      expect(acc).toBeGreaterThanOrEqual(0.9);
    });
  }

  it('module and optimizer state dicts resume training bit for bit (transformer, AdamW with schedule, dropout off)', () => {
    const { train } = dataset(2);
    const target = (a: number[]) => a.slice().reverse();
    const make = (seed: number) => {
      const model = new TinyLM(V + 1, 2 * L, 8, Rng.seeded(seed), { std: 0.3, ffMult: 2 });
      const opt = new AdamW(model.namedParameters(), { lr: 1e-2, schedule: cosineWithWarmup({ lr: 1e-2, warmupSteps: 2, totalSteps: 12 }) });
      return { model, opt };
    };
    const run = (m: ReturnType<typeof make>, from: number, n: number) => {
      for (let step = from; step < from + n; step++) {
        const { ids, targets } = batch(train.slice(step * 4, step * 4 + 4), target);
        m.opt.zeroGrad();
        sum(crossEntropy(m.model.forward(ids), targets)).backward();
        m.opt.step();
      }
    };
    const a = make(1);
    run(a, 0, 4);
    const b = make(77);
    // Fresh copies of the values, as a checkpoint file would give.
    const saved = Object.fromEntries(Object.entries(a.model.stateDict()).map(([k, t]) => [k, new Tensor(t.data.slice(), t.shape, null)]));
    b.model.loadStateDict(saved);
    b.opt.loadStateDict(a.opt.stateDict());
    const probe = batch(train.slice(100, 104), target).ids;
    expect(bitEqual(a.model.forward(probe).data, b.model.forward(probe).data)).toBe(true);
    run(a, 4, 4);
    run(b, 4, 4);
    const pa = a.model.parameters();
    b.model.parameters().forEach((p, i) => expect(bitEqual(p.data, pa[i].data)).toBe(true));
    expect(a.opt.lr).toBe(b.opt.lr);
  });
});
