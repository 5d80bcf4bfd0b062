import { describe, expect, it } from 'vitest';
import { byteTokenizer, embeddedTask } from '@ganpo/datasets';
import { CausalLM, sequenceLogps } from '@ganpo/models';
import { preferenceObjective } from '@ganpo/objectives';
import { sequenceBatch } from '../train/pairs.js';
import { preferenceEval, samplingEval, sampleResponses, scoreSamples } from './evaluate.js';
import { PairRewardTally, winRate } from './stats.js';

/** Evaluation metrics on lopsided, hand-computed data, and wired to the right sides of the models. */

describe('held-out preference statistics', () => {
  it('count 3 of 4 pairs right as 0.75, with rewards of the right side', () => {
    const tally = new PairRewardTally(0.5);
    // Δc − Δr per pair: +1, +1, +1, −2.
    tally.add({ policyChosen: [-1, -2, -3], policyRejected: [-4, -5, -6], refChosen: [-2, -3, -4], refRejected: [-4, -5, -6] }, 0.25);
    tally.add({ policyChosen: [-10], policyRejected: [-1], refChosen: [-8], refRejected: [-1] }, 0.75);
    const r = tally.result()!;
    expect(r.pairs).toBe(4);
    expect(r.accuracy).toBe(0.75);
    expect(r.margin).toBeCloseTo((0.5 * (1 + 1 + 1 - 2)) / 4, 12);
    expect(r.chosenReward).toBeCloseTo((0.5 * (1 + 1 + 1 - 2)) / 4, 12);
    expect(r.rejectedReward).toBe(0);
    expect(r.loss).toBeCloseTo((0.25 * 3 + 0.75) / 4, 12);
    // Policy log-probs: chosen higher in 3 of 4 pairs; reference: in 3 of 4 (the last pair: −8 < −1).
    expect(r.policyLogpAccuracy).toBe(0.75);
    expect(r.referenceLogpAccuracy).toBe(0.75);
    expect(new PairRewardTally(1).result()).toBeNull();
  });

  it('preferenceEval measures Δ = policy − reference log-prob of each side', () => {
    const tokenizer = byteTokenizer();
    const lm = (seed: number) => new CausalLM({ vocabSize: tokenizer.vocabSize, contextLength: 48, dModel: 16, nLayers: 1, nHeads: 2, dropout: 0 }, { seed });
    const policy = lm(1);
    const reference = lm(2);
    const pairs = [
      { prompt: 'sort: c a b\n', chosen: 'a b c', rejected: 'c b a' },
      { prompt: 'reverse: ab\n', chosen: 'ba', rejected: 'ab' },
      { prompt: 'count: xxx\n', chosen: '3', rejected: 'four' },
    ];
    const objective = preferenceObjective([{ loss: 'sigmoid', beta: 0.1 }]);
    const r = preferenceEval(policy, reference, pairs, tokenizer, { objective, beta: 0.1, maxLength: 48 })!;
    // Independently: each sequence's summed completion log-prob from its own forward pass.
    const logp = (m: CausalLM, side: 'chosen' | 'rejected') => {
      const { batch } = sequenceBatch(pairs.map((p) => ({ prompt: p.prompt, completion: p[side] })), tokenizer, 48);
      return Array.from(sequenceLogps(m.forward(batch).logits, batch).sum.data);
    };
    const [pc, pr, rc, rr] = [logp(policy, 'chosen'), logp(policy, 'rejected'), logp(reference, 'chosen'), logp(reference, 'rejected')];
    const dc = pc.map((v, i) => v - rc[i]);
    const dr = pr.map((v, i) => v - rr[i]);
    expect(r.chosenReward).toBeCloseTo((0.1 * dc.reduce((a, b) => a + b)) / 3, 4);
    expect(r.rejectedReward).toBeCloseTo((0.1 * dr.reduce((a, b) => a + b)) / 3, 4);
    expect(r.accuracy).toBe(dc.filter((v, i) => v > dr[i]).length / 3);
    expect(r.policyLogpAccuracy).toBe(pc.filter((v, i) => v > pr[i]).length / 3);
  });
});

describe('sampling win rate', () => {
  it('counts wins 1, ties ½ and losses 0 on hand-computed rewards', () => {
    expect(winRate([1, 0, 0.5, 0.2], [0, 0, 1, 0.1])).toBe((1 + 0.5 + 0 + 1) / 4);
    expect(winRate([0, 0, 0, 1], [1, 1, 1, 0])).toBe(0.25);
    expect(() => winRate([1], [])).toThrow(/1 policy rewards but 0/);
  });

  it("samplingEval's win rate is the policy's wins over the reference on the same prompts", () => {
    const tokenizer = byteTokenizer();
    const heldOut = embeddedTask({ seed: 3, nSft: 1, nTrain: 1, nEval: 1, nHeldOut: 6 }).heldOut;
    const lm = (seed: number) => new CausalLM({ vocabSize: tokenizer.vocabSize, contextLength: 64, dModel: 16, nLayers: 1, nHeads: 2, dropout: 0 }, { seed });
    const [a, b] = [lm(4), lm(5)];
    const o = { temperatures: [1], prompts: 6, maxNewTokens: 6, seed: 9 };
    const [ab] = samplingEval(a, b, heldOut, tokenizer, o);
    const [ba] = samplingEval(b, a, heldOut, tokenizer, o);
    expect(ab.policy).toEqual(ba.reference);
    expect(ab.winRate + ba.winRate).toBeCloseTo(1, 12);
    const seed = (o.seed * 1000003) | 0;
    const rewards = (m: CausalLM) => scoreSamples(heldOut, sampleResponses(m, heldOut.map((h) => h.prompt), tokenizer, { temperature: 1, maxNewTokens: 6, seed })).rewards;
    expect(ab.winRate).toBe(winRate(rewards(a), rewards(b)));
  });
});
