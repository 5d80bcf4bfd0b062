import { AdamW, type Optimizer, Rng, type Tensor, matmul, mean, noGrad, ones, randn, sum, tensor } from '@ganpo/autograd';
import { contramap, getObjectiveMonoid, metricValues, preferenceLoss, type PairLogps } from '@ganpo/objectives';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ganpo, type PairLatents } from './index.js';

// The README's "DPO + GANPO in ten lines", verbatim between the markers, driven by a toy policy.
describe('README example', () => {
  it('DPO + GANPO composed through the objectives monoid trains a toy policy', () => {
    // ---- README begin
    type Step = { logps: PairLogps; latents: PairLatents };
    const dpo = contramap((s: Step) => s.logps, preferenceLoss('sigmoid', { beta: 0.1 }));
    const ganpo = Ganpo.create({ policyLr: 1e-4, lambda: 1 }, { latentDim: 64 }); // discriminators train at lr/2

    function trainStep(step: Step, policyOptimizer: Optimizer) {
      ganpo.discriminatorStep(step.latents); // §5.3: means, L_Cw, L_Cl, one AdamW step each
      const total = getObjectiveMonoid<Step>().concat(dpo, contramap((s: Step) => s.latents, ganpo.term()));
      const { loss, metrics } = total(step); // L_DPO + λ·L_adv; metrics: rewards/*, logps/*, ganpo/*
      policyOptimizer.zeroGrad(); loss.backward(); policyOptimizer.step();
      return metrics; // (not in the README)
    }
    // ---- README end

    // A toy "language model": latents = inputs · W (policy) or inputs · W0 (frozen reference); log-probs from the latents.
    const rng = Rng.seeded(0);
    const d = 64;
    const w0 = randn([d, d], rng, { std: 0.1 });
    const w = randn([d, d], Rng.seeded(0), { std: 0.1 }).requireGrad();
    w.assign(w0.data.slice());
    const optimizer = new AdamW([['w', w]], { lr: 1e-4 });
    const forward = (x: Tensor, weight: Tensor) => matmul(x, weight);
    const logp = (h: Tensor) => sum(mean(h, 2), 1); // [B]
    let last: Record<string, number> = {};
    for (let i = 0; i < 3; i++) {
      const xc = randn([2, 5, d], rng);
      const xr = randn([2, 4, d], rng);
      const pc = forward(xc, w);
      const pr = forward(xr, w);
      const [rc, rr] = noGrad(() => [forward(xc, w0), forward(xr, w0)]);
      const step = {
        logps: { policyChosen: logp(pc), policyRejected: logp(pr), refChosen: logp(rc), refRejected: logp(rr), chosenLengths: tensor([5, 5]), rejectedLengths: tensor([4, 4]) },
        latents: { policyChosen: pc, policyRejected: pr, refChosen: rc, refRejected: rr, maskChosen: ones([2, 5]), maskRejected: ones([2, 4]) },
      };
      last = metricValues(trainStep(step, optimizer));
    }
    expect(ganpo.step).toBe(3);
    expect(Number.isFinite(last['ganpo/g_loss'])).toBe(true);
    expect(Number.isFinite(last['rewards/margins'])).toBe(true);
    expect(w.toFlat()).not.toEqual(Array.from(w0.data));
  });

  it('the README shows the code this test runs', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const source = readFileSync(new URL('./readme.test.ts', import.meta.url), 'utf8');
    const block = readme.split('## DPO + GANPO in ten lines')[1].split(/```ts[^\n]*\n/)[1].split('```')[0];
    const code = block.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('import'));
    expect(code.length).toBeLessThanOrEqual(10);
    for (const line of code) expect(source, line).toContain(line);
  });
});
