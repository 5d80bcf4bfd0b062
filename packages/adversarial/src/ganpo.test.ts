import { Rng, Tensor, cosineWithWarmup, gradcheck, noGrad, randn, tensor } from '@ganpo/autograd';
import { contramap, getObjectiveMonoid, metricValues, preferenceLoss, type PairLogps } from '@ganpo/objectives';
import { describe, expect, it } from 'vitest';
import { type GanpoConfigInput, ganpoConfig } from './config.js';
import { Ganpo, type GanpoTermOptions } from './ganpo.js';
import { scoreSets } from './sides.js';
import { ganpoStateDict, loadGanpoState } from './state.js';
import type { PairLatents } from './latents.js';
import { bceWithLogits, ganpoGeneratorLoss, quadDiscriminatorLoss } from './losses.js';
import { updateMeans } from './means.js';
import { randomPairLatents } from './testing/fixtures.js';

const D = 6;
const base: GanpoConfigInput = { policyLr: 2e-3, width: 8, heads: 2, discLayers: 1, dropout: 0, seed: 7 };
const batch = (seed: number, extra: Partial<Parameters<typeof randomPairLatents>[0]> = {}) =>
  randomPairLatents({ b: 4, tChosen: 5, tRejected: 4, d: D, seed, shift: { refChosen: 0.5, refRejected: -0.5 }, ...extra });
/** One discriminator step of `g` (which it changes in place), with its metrics. */
const discriminatorStep = (g: Ganpo, x: PairLatents | PairLatents[]) => ({ state: g, metrics: g.discriminatorStep(x) });
const ganpoTerm = (g: Ganpo, options?: GanpoTermOptions) => g.term(options);
const run = (state: Ganpo, seeds: number[]) => {
  let s = state;
  const metrics: Record<string, number>[] = [];
  for (const seed of seeds) {
    const r = discriminatorStep(s, batch(seed));
    s = r.state;
    metrics.push(r.metrics);
  }
  return { state: s, metrics };
};
const params = (s: Ganpo) => [...s.chosen.parameters(), ...(s.rejected?.parameters() ?? [])].map((p) => p.toFlat());
/** A deep copy through the checkpoint format (JSON for the metadata, copied tensors). */
const clone = (s: Ganpo) => {
  const sd = ganpoStateDict(s);
  return loadGanpoState({ tensors: sd.tensors, meta: JSON.parse(JSON.stringify(sd.meta)) });
};

describe('Ganpo.create', () => {
  it('two discriminators in evaluation mode, no means yet, the discriminator lr = policy lr / 2', () => {
    const s = Ganpo.create(base, { latentDim: D });
    expect(s.chosen.training).toBe(false);
    expect(s.rejected).toBeDefined();
    expect(s.means).toBeUndefined();
    expect(s.step).toBe(0);
    expect(s.side('chosen')!.optimizer.lr).toBe(1e-3);
    expect(s.sides.map((x) => x.spec.name)).toEqual(['chosen', 'rejected']);
    expect(Ganpo.create({ ...base, twoDiscriminators: false }, { latentDim: D }).rejected).toBeUndefined();
    expect(() => Ganpo.create({}, { latentDim: D })).toThrow(/policyLr/);
    expect(() => Ganpo.create({ ...base, pooling: 'nope' } as never, { latentDim: D })).toThrow(/pooling/);
  });
});

describe('discriminatorStep', () => {
  it('updates the means with this batch’s scores BEFORE forming L_Cw and L_Cl, then one AdamW step each (docs/method.md §5)', () => {
    const s1 = run(Ganpo.create(base, { latentDim: D }), [1]).state;
    const x = batch(2);
    const twin = clone(s1);
    const { state: s2, metrics } = discriminatorStep(s1, x);
    // Replay by hand on the twin: scores in training mode, means updated, the quad loss on the UPDATED means.
    for (const [side, disc, opt] of [['chosen', twin.chosen, twin.side('chosen')!.optimizer], ['rejected', twin.rejected!, twin.side('rejected')!.optimizer]] as const) {
      disc.train();
      const sets =
        side === 'chosen'
          ? [{ latents: x.refChosen, mask: x.maskChosen }, { latents: x.policyChosen, mask: x.maskChosen }, { latents: x.refRejected, mask: x.maskRejected }]
          : [{ latents: x.refRejected, mask: x.maskRejected }, { latents: x.policyRejected, mask: x.maskRejected }, { latents: x.refChosen, mask: x.maskChosen }];
      const [real, policy, opposite] = scoreSets(disc, sets);
      const mean = (t: Tensor) => noGrad(() => t.mean().item());
      const prev = side === 'chosen' ? twin.means!.chosen : twin.means!.rejected!;
      const batchMeans =
        side === 'chosen'
          ? { refChosen: mean(real), policyChosen: mean(policy), refRejected: mean(opposite) }
          : { refRejected: mean(real), policyRejected: mean(policy), refChosen: mean(opposite) };
      const updated = updateMeans<Record<string, number>>(prev as never, batchMeans as never, { mode: 'ema', momentum: 0.9 });
      const quadMeans =
        side === 'chosen'
          ? { real: updated.refChosen, policy: updated.policyChosen, opposite: updated.refRejected }
          : { real: updated.refRejected, policy: updated.policyRejected, opposite: updated.refChosen };
      const loss = quadDiscriminatorLoss({ real, policy, opposite }, quadMeans);
      expect(metrics[`ganpo/d_loss_${side}`]).toBe(loss.item());
      expect(side === 'chosen' ? s2.means!.chosen : s2.means!.rejected).toEqual(updated);
      // Had the stale means been used, the loss would differ.
      const stale = side === 'chosen' ? { real: prev.refChosen, policy: (prev as { policyChosen: number }).policyChosen, opposite: prev.refRejected } : null;
      if (stale) expect(quadDiscriminatorLoss({ real, policy, opposite }, stale).item()).not.toBe(loss.item());
      loss.backward();
      opt.step();
      disc.eval();
    }
    expect(params(s2)).toEqual(params(twin));
    expect(s2.step).toBe(2);
  });

  it('the first batch initialises the EMA means with its own means; reports the documented metrics', () => {
    const s0 = Ganpo.create(base, { latentDim: D });
    const twin = clone(s0);
    const { state, metrics } = discriminatorStep(s0, batch(3));
    twin.chosen.train();
    const x = batch(3);
    const [real] = scoreSets(twin.chosen, [{ latents: x.refChosen, mask: x.maskChosen }, { latents: x.policyChosen, mask: x.maskChosen }, { latents: x.refRejected, mask: x.maskRejected }]);
    expect(state.means!.chosen.refChosen).toBe(noGrad(() => real.mean().item()));
    for (const key of [
      'ganpo/d_loss_chosen', 'ganpo/d_loss_rejected', 'ganpo/d_acc_chosen', 'ganpo/d_acc_rejected', 'ganpo/d_order_chosen', 'ganpo/d_order_rejected',
      'ganpo/d_acc_chosen/real_vs_policy', 'ganpo/d_acc_rejected/policy_vs_opposite', 'ganpo/means/chosen/ref_chosen', 'ganpo/means/rejected/policy_rejected',
      'ganpo/disc_lr', 'ganpo/noise_sigma',
    ]) {
      expect(Number.isFinite(metrics[key]), key).toBe(true);
    }
    expect(metrics['ganpo/disc_lr']).toBe(1e-3);
    expect(state.chosen.training).toBe(false);
  });

  it("'batch' means give exactly the run of 'ema' with μ = 0", () => {
    const a = run(Ganpo.create({ ...base, means: 'batch' }, { latentDim: D }), [1, 2, 3]);
    const b = run(Ganpo.create({ ...base, means: 'ema', momentum: 0 }, { latentDim: D }), [1, 2, 3]);
    expect(a.metrics).toEqual(b.metrics);
    expect(params(a.state)).toEqual(params(b.state));
    const c = run(Ganpo.create({ ...base, means: 'ema', momentum: 0.9 }, { latentDim: D }), [1, 2, 3]);
    expect(c.metrics[2]['ganpo/d_loss_chosen']).not.toBe(a.metrics[2]['ganpo/d_loss_chosen']);
  });

  it('mirror symmetry: swapping the roles of chosen and rejected maps L_Cw onto L_Cl (and C_w’s update onto C_l’s)', () => {
    const cfg = { ...base, dropout: 0.2 };
    const a = Ganpo.create(cfg, { latentDim: D });
    // The same two networks with their roles exchanged (through the state dict: chosen.* ↔ rejected.*).
    const sd = ganpoStateDict(Ganpo.create(cfg, { latentDim: D }));
    const other = (k: string) => k.replace(/^(optim\.)?(chosen|rejected)\./, (_m, o: string | undefined, side: string) => `${o ?? ''}${side === 'chosen' ? 'rejected' : 'chosen'}.`);
    const b = loadGanpoState({
      tensors: Object.fromEntries(Object.entries(sd.tensors).map(([k, t]) => [other(k), t])),
      meta: { ...sd.meta, optimizers: { chosen: sd.meta.optimizers.rejected, rejected: sd.meta.optimizers.chosen }, rngs: { chosen: sd.meta.rngs.rejected, rejected: sd.meta.rngs.chosen } },
    });
    const swap = (x: PairLatents): PairLatents => ({
      policyChosen: x.policyRejected, policyRejected: x.policyChosen, refChosen: x.refRejected, refRejected: x.refChosen,
      maskChosen: x.maskRejected, maskRejected: x.maskChosen,
    });
    let sa = a;
    let sb = b;
    for (const seed of [1, 2, 3]) {
      const x = batch(seed);
      const ra = discriminatorStep(sa, x);
      const rb = discriminatorStep(sb, swap(x));
      expect(rb.metrics['ganpo/d_loss_rejected']).toBe(ra.metrics['ganpo/d_loss_chosen']);
      expect(rb.metrics['ganpo/d_loss_chosen']).toBe(ra.metrics['ganpo/d_loss_rejected']);
      expect(rb.metrics['ganpo/d_order_rejected']).toBe(ra.metrics['ganpo/d_order_chosen']);
      expect(rb.state.means!.rejected).toEqual({ refRejected: ra.state.means!.chosen.refChosen, policyRejected: ra.state.means!.chosen.policyChosen, refChosen: ra.state.means!.chosen.refRejected });
      sa = ra.state;
      sb = rb.state;
    }
    expect(sb.rejected!.parameters().map((p) => p.toFlat())).toEqual(sa.chosen.parameters().map((p) => p.toFlat()));
  });

  it('k discriminator steps per policy step; the latents it gets are detached', () => {
    const s = Ganpo.create({ ...base, discSteps: 3 }, { latentDim: D });
    const x = batch(1);
    const pc = x.policyChosen.detach().requireGrad();
    const { state } = discriminatorStep(s, { ...x, policyChosen: pc });
    expect(state.side('chosen')!.optimizer.stepCount).toBe(3);
    expect(state.step).toBe(1);
    expect(pc.grad).toBeNull();
  });

  it('the cosine schedule follows the policy steps (not the inner discriminator steps)', () => {
    const cfg = { ...base, discSteps: 2, schedule: 'cosine', warmupSteps: 2, totalSteps: 6 } as const;
    const { metrics } = run(Ganpo.create(cfg, { latentDim: D }), [1, 2, 3, 4]);
    const expected = cosineWithWarmup({ lr: 1e-3, warmupSteps: 2, totalSteps: 6 });
    expect(metrics.map((m) => m['ganpo/disc_lr'])).toEqual([0, 1, 2, 3].map(expected));
  });

  it('every variant and stabiliser runs and reports its metrics', () => {
    const cases: [GanpoConfigInput, string[]][] = [
      [{ variant: 'ragan' }, []],
      [{ variant: 'nonsaturating' }, []],
      [{ variant: 'hinge' }, []],
      [{ variant: 'wasserstein' }, ['ganpo/gp_chosen', 'ganpo/gp_rejected']],
      [{ r1: 10, r2: 1 }, ['ganpo/r1_chosen', 'ganpo/r2_chosen', 'ganpo/r1_rejected']],
      [{ instanceNoise: { sigma0: 0.5, annealSteps: 4 } }, []],
      [{ twoDiscriminators: false }, []],
      [{ means: 'batch', meanGradient: true }, []],
      [{ architecture: 'mlp', discLayers: 2 }, []],
      [{ pooling: 'all' }, []],
      [{ pooling: 'completion' }, []],
    ];
    for (const [extra, keys] of cases) {
      const { state, metrics } = run(Ganpo.create({ ...base, ...extra }, { latentDim: D }), [1, 2]);
      for (const k of keys) expect(Number.isFinite(metrics[1][k]), `${JSON.stringify(extra)} ${k}`).toBe(true);
      for (const [k, v] of Object.entries(metrics[1])) expect(Number.isFinite(v), `${JSON.stringify(extra)} ${k}`).toBe(true);
      if (extra.twoDiscriminators === false) {
        expect(metrics[1]['ganpo/d_loss_rejected']).toBeUndefined();
        expect(Object.keys(metrics[1]).some((k) => k.startsWith('ganpo/means/rejected') || k.startsWith('ganpo/d_acc_rejected'))).toBe(false);
      }
      const x = batch(9);
      const pc = x.policyChosen.detach().requireGrad();
      const term = ganpoTerm(state)({ ...x, policyChosen: pc });
      expect(Number.isFinite(term.loss.item()), JSON.stringify(extra)).toBe(true);
      term.loss.backward();
      expect(pc.grad!.toFlat().some((g) => g !== 0), JSON.stringify(extra)).toBe(true);
    }
    expect(run(Ganpo.create({ ...base, instanceNoise: { sigma0: 0.5, annealSteps: 4 } }, { latentDim: D }), [1, 2, 3]).metrics.map((m) => m['ganpo/noise_sigma'])).toEqual([0.5, 0.375, 0.25]);
  });

  it('rejects inconsistent latents with a message naming the problem', () => {
    const s = Ganpo.create(base, { latentDim: D });
    const x = batch(1);
    expect(() => discriminatorStep(s, { ...x, refChosen: x.refRejected })).toThrow(/ref chosen latents .* differ/);
    expect(() => discriminatorStep(s, batch(1, { d: 5 }))).toThrow(/width 5/);
    const c = Ganpo.create({ ...base, pooling: 'completion' }, { latentDim: D });
    expect(() => discriminatorStep(c, { ...x, completionMaskChosen: undefined })).toThrow(/completion masks/);
  });
});

describe('ganpoTerm', () => {
  it("'batch' means: m(R) is this batch's mean score under the critic as updated, not the pre-update batch mean", () => {
    const s = Ganpo.create({ ...base, means: 'batch', twoDiscriminators: false }, { latentDim: D });
    run(s, [1]);
    const x = batch(2);
    s.discriminatorStep(x);
    const term = s.term()(x);
    const scoreOf = (latents: Tensor) => noGrad(() => {
      s.chosen.eval();
      return scoreSets(s.chosen, [{ latents, mask: x.maskChosen }])[0];
    });
    const updatedMean = noGrad(() => scoreOf(x.refChosen).mean().item());
    const expected = noGrad(() => ganpoGeneratorLoss({ policy: scoreOf(x.policyChosen), meanReal: updatedMean }).item());
    expect(term.metrics['ganpo/g_loss'] as number).toBeCloseTo(expected, 6);
    // The pre-update batch mean (what the critic's own loss used) is another number, so this is not vacuous.
    expect(s.means!.chosen.refChosen).not.toBeCloseTo(updatedMean, 6);
  });

  const trained = () => run(Ganpo.create({ ...base, dropout: 0.2 }, { latentDim: D }), [1, 2]).state;

  it('needs the means of a discriminator step first', () => {
    expect(() => ganpoTerm(Ganpo.create(base, { latentDim: D }))(batch(1))).toThrow(/discriminatorStep/);
  });

  it('is λ·½[ℓ(C_w(P_w) − m_w(R_w), 1) + ℓ(C_l(P_l) − m_l(R_l), 1)] with frozen discriminators in evaluation mode', () => {
    const s = trained();
    const x = batch(5);
    const pc = x.policyChosen.detach().requireGrad();
    const pl = x.policyRejected.detach().requireGrad();
    const rc = x.refChosen.detach().requireGrad();
    const input = { ...x, policyChosen: pc, policyRejected: pl, refChosen: rc };
    const term = ganpoTerm(s, { lambda: 0.3 })(input);
    const expected = noGrad(() => {
      s.chosen.eval();
      s.rejected!.eval();
      const cw = s.chosen.forward(x.policyChosen, { mask: x.maskChosen });
      const cl = s.rejected!.forward(x.policyRejected, { mask: x.maskRejected });
      return 0.3 * 0.5 * (bceWithLogits(cw.sub(s.means!.chosen.refChosen), 1).item() + bceWithLogits(cl.sub(s.means!.rejected!.refRejected), 1).item());
    });
    expect(term.loss.item()).toBeCloseTo(expected, 6);
    expect(metricValues(term.metrics)['ganpo/lambda']).toBe(0.3);
    expect(term.metrics['ganpo/g_loss']).toBeCloseTo(expected / 0.3, 6);
    // Deterministic (no dropout in evaluation mode) and λ-linear.
    expect(ganpoTerm(s, { lambda: 0.3 })(input).loss.item()).toBe(term.loss.item());
    expect(ganpoTerm(s)(input).loss.item()).toBeCloseTo(term.loss.item() / 0.3, 5);
    term.loss.backward();
    expect(pc.grad!.toFlat().some((g) => g !== 0)).toBe(true);
    expect(pl.grad!.toFlat().some((g) => g !== 0)).toBe(true);
    expect(rc.grad).toBeNull(); // reference latents only enter through the means
    expect([...s.chosen.parameters(), ...s.rejected!.parameters()].every((p) => p.grad === null)).toBe(true);
    expect(s.chosen.training).toBe(false);
    // The discriminators still train afterwards (parameters were never unmarked).
    expect(s.chosen.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('with one discriminator only the chosen side enters', () => {
    const s = run(Ganpo.create({ ...base, twoDiscriminators: false }, { latentDim: D }), [1]).state;
    const x = batch(6);
    const pl = x.policyRejected.detach().requireGrad();
    const term = ganpoTerm(s)({ ...x, policyRejected: pl });
    expect(term.metrics['ganpo/g_loss_rejected']).toBeUndefined();
    expect(term.metrics['ganpo/g_loss']).toBe(term.metrics['ganpo/g_loss_chosen']);
    term.loss.backward();
    expect(pl.grad).toBeNull();
  });

  it('gradcheck end to end: latents → discriminator → L_adv (float64; transformer and MLP)', () => {
    for (const architecture of ['transformer', 'mlp'] as const) {
      const s = run(Ganpo.create({ ...base, architecture, dtype: 'float64', width: 4, heads: 2 }, { latentDim: 3 }), []).state;
      const x = randomPairLatents({ b: 2, tChosen: 3, tRejected: 2, d: 3, seed: 4, dtype: 'float64' });
      const s1 = discriminatorStep(s, x).state;
      const f = (pc: Tensor, pl: Tensor) => ganpoTerm(s1, { lambda: 0.7 })({ ...x, policyChosen: pc, policyRejected: pl }).loss;
      expect(gradcheck(f, [x.policyChosen, x.policyRejected])).toBe(true);
    }
  });

  it('float64 policy latents with float32 discriminators: the loss and gradient come back in float64', () => {
    const s = trained();
    const x = randomPairLatents({ b: 2, tChosen: 3, tRejected: 3, d: D, seed: 4, dtype: 'float64' });
    const pc = x.policyChosen.detach().requireGrad();
    const term = ganpoTerm(s)({ ...x, policyChosen: pc });
    expect(term.loss.dtype).toBe('float64');
    term.loss.backward();
    expect(pc.grad!.dtype).toBe('float64');
  });
});

describe('composition with the objectives package', () => {
  interface StepInput {
    logps: PairLogps;
    latents: PairLatents;
  }
  const logps = (seed: number, withRef: boolean): PairLogps => {
    const rng = Rng.seeded(seed);
    const seq = () => randn([4], rng, { std: 2, mean: -20 });
    return {
      policyChosen: seq().requireGrad(),
      policyRejected: seq().requireGrad(),
      refChosen: withRef ? seq() : undefined,
      refRejected: withRef ? seq() : undefined,
      chosenLengths: tensor([3, 4, 5, 2]),
      rejectedLengths: tensor([2, 3, 3, 4]),
    };
  };

  for (const [name, loss] of [['DPO', preferenceLoss('sigmoid', { beta: 0.1 })], ['SimPO', preferenceLoss('simpo', { beta: 2, gamma: 0.5 })]] as const) {
    it(`${name} + GANPO through the objectives monoid: one loss, merged metrics, gradients to log-probs and latents`, () => {
      const { state } = discriminatorStep(Ganpo.create(base, { latentDim: D }), batch(1));
      const M = getObjectiveMonoid<StepInput>();
      const total = M.concat(
        contramap((s: StepInput) => s.logps, loss),
        contramap((s: StepInput) => s.latents, ganpoTerm(state, { lambda: 0.5 })),
      );
      const x = batch(1);
      const pc = x.policyChosen.detach().requireGrad();
      const lp = logps(2, name === 'DPO');
      const term = total({ logps: lp, latents: { ...x, policyChosen: pc } });
      const parts = loss(lp).loss.item() + ganpoTerm(state, { lambda: 0.5 })({ ...x, policyChosen: pc }).loss.item();
      expect(term.loss.item()).toBeCloseTo(parts, 5);
      const metrics = metricValues(term.metrics);
      expect(metrics['ganpo/g_loss']).toBeGreaterThan(0);
      expect(Object.keys(metrics).some((k) => k.startsWith('rewards/') || k.startsWith('logps/'))).toBe(true);
      term.loss.backward();
      expect(lp.policyChosen.grad).not.toBeNull();
      expect(pc.grad).not.toBeNull();
    });
  }
});

describe('checkpoints', () => {
  it('ganpoStateDict / loadGanpoState resume bit for bit (dropout streams, instance noise, AdamW moments, means)', () => {
    const cfg: GanpoConfigInput = { ...base, dropout: 0.2, instanceNoise: { sigma0: 0.3, annealSteps: 10 }, r1: 1 };
    const straight = run(Ganpo.create(cfg, { latentDim: D }), [1, 2, 3, 4]);
    const firstHalf = run(Ganpo.create(cfg, { latentDim: D }), [1, 2]);
    const sd = ganpoStateDict(firstHalf.state);
    expect(Object.keys(sd.tensors)).toContain('chosen.inputProj.u');
    expect(Object.keys(sd.tensors)).toContain('optim.rejected.head1.weight.v');
    expect(Object.keys(sd.meta.rngs.chosen).length).toBeGreaterThan(0);
    // Through JSON and fresh buffers, as a file would.
    const restored = loadGanpoState({
      meta: JSON.parse(JSON.stringify(sd.meta)),
      tensors: Object.fromEntries(Object.entries(sd.tensors).map(([k, t]) => [k, new Tensor(t.data.slice(), t.shape, null)])),
    });
    expect(restored.step).toBe(2);
    expect(restored.means).toEqual(firstHalf.state.means);
    expect(restored.config).toEqual(ganpoConfig(cfg));
    const secondHalf = run(restored, [3, 4]);
    expect(secondHalf.metrics).toEqual(straight.metrics.slice(2));
    expect(params(secondHalf.state)).toEqual(params(straight.state));
    const x = batch(8);
    expect(ganpoTerm(secondHalf.state)(x).loss.item()).toBe(ganpoTerm(straight.state)(x).loss.item());
  });

  it('rejects a state dict with missing or unexpected entries', () => {
    const sd = ganpoStateDict(run(Ganpo.create(base, { latentDim: D }), [1]).state);
    const { ['optim.chosen.head1.bias.m']: _drop, ...missing } = sd.tensors;
    expect(() => loadGanpoState({ ...sd, tensors: missing })).toThrow(/missing optim.chosen.head1.bias.m/);
    expect(() => loadGanpoState({ ...sd, tensors: { ...sd.tensors, stray: Tensor.zeros([1]) } })).toThrow(/unexpected tensors stray/);
  });
});
