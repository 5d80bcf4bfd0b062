import { AdamW, Rng, add, backward, noGrad, slice, tensor, type Tensor } from '@ganpo/autograd';
import { Ganpo, type PairLatents } from '@ganpo/adversarial';
import { CausalLM, freezeReference, type ModelBatch, type ResolvedModelConfig, resolveModelConfig, sequenceLogps, sftLoss, splitPairs } from '@ganpo/models';
import { dpo, type PairLogps } from '@ganpo/objectives';

/**
 * The benchmarked training step, built from the public packages only: a GPT-2 policy and its frozen reference,
 * a synthetic preference batch (random byte tokens, shared prompt, the second half of each row is the
 * completion), DPO (sigmoid, β 0.1), and GANPO with two spectral-norm transformer discriminators, quad RaGAN
 * with EMA means (0.9), discriminator AdamW lr 5e-5 wd 0.01, λ 1, policy AdamW lr 1e-4 wd 0.01. With the
 * `reference` shape this is the reference step of the TF.js and PyTorch peers (see bench/README.md).
 */
export interface BenchShape {
  vocab: number;
  width: number;
  layers: number;
  heads: number;
  /** MLP hidden width (4·width unless a preset says otherwise). */
  mlp: number;
  /** Tokens per sequence; the last half is the completion. */
  seq: number;
  /** Preference pairs per step (2·pairs sequences; SFT steps use the same 2·pairs sequences). */
  pairs: number;
  /** Discriminator width, heads and FFN width. */
  discWidth: number;
  discHeads: number;
  discFf: number;
}

export const REFERENCE_SHAPE: Readonly<BenchShape> = Object.freeze({
  vocab: 260, width: 128, layers: 2, heads: 4, mlp: 512, seq: 128, pairs: 8, discWidth: 64, discHeads: 4, discFf: 256,
});

export type BenchMode = 'sft' | 'dpo' | 'dpo+ganpo';
export const BENCH_MODES: readonly BenchMode[] = ['sft', 'dpo', 'dpo+ganpo'];

/** The phases a step is timed in; a mode skips the ones it does not have. */
export const PHASES = ['reference forward', 'policy forward', 'discriminator step', 'loss and adversarial term', 'backward', 'optimizer'] as const;
export type Phase = (typeof PHASES)[number];

export interface StepTiming {
  /** Milliseconds per phase of this step. */
  phases: Partial<Record<Phase, number>>;
  /** The step's loss (finite and changing: the batch is reused, so it falls). */
  loss: number;
}

/** The GPT-2 policy of a shape (every other field at its default: GPT-2 architecture, tied head). */
export const modelConfigOf = (s: BenchShape): ResolvedModelConfig =>
  resolveModelConfig({ vocabSize: s.vocab, contextLength: s.seq, dModel: s.width, nLayers: s.layers, nHeads: s.heads, dropout: 0, dMlp: s.mlp, layerNormEps: 1e-5, activation: 'gelu_tanh' });

/** Matmul FLOPs of one forward of the policy over `rows` sequences (linear layers, attention and the tied head). */
export function forwardFlops(s: BenchShape, rows: number): number {
  const tokens = rows * s.seq;
  const perLayer = 2 * tokens * s.width * (4 * s.width + 2 * s.mlp) + 4 * rows * s.seq * s.seq * s.width;
  return s.layers * perLayer + 2 * tokens * s.width * s.vocab;
}

/** A batch of 2·pairs rows (chosen first, then rejected): a shared prompt, then the completion (the second half). */
export function syntheticBatch(s: BenchShape, seed = 12345): ModelBatch {
  const rng = Rng.seeded(seed);
  const rows = 2 * s.pairs;
  const prompt = Math.floor(s.seq / 2);
  const ids = new Int32Array(rows * s.seq);
  const lossMask = new Float32Array(rows * s.seq);
  const token = () => rng.int(0, Math.min(256, s.vocab) - 1);
  for (let p = 0; p < s.pairs; p++) {
    for (let t = 0; t < s.seq; t++) {
      const shared = t < prompt ? token() : -1;
      for (const r of [p, p + s.pairs]) {
        ids[r * s.seq + t] = shared >= 0 ? shared : token();
        lossMask[r * s.seq + t] = t >= prompt ? 1 : 0;
      }
    }
  }
  return { ids, attentionMask: new Float32Array(rows * s.seq).fill(1), lossMask, rows, seqLen: s.seq };
}

const halves = (t: Tensor): [Tensor, Tensor] => {
  const n = t.shape[0] / 2;
  const end = t.shape.slice(1);
  return [slice(t, [0, ...end.map(() => 0)], [n, ...end]), slice(t, [n, ...end.map(() => 0)], [2 * n, ...end])];
};

/** Times `fn` into `phases[name]`. */
function timed<T>(phases: Partial<Record<Phase, number>>, name: Phase, fn: () => T): T {
  const t0 = performance.now();
  const out = fn();
  phases[name] = (phases[name] ?? 0) + performance.now() - t0;
  return out;
}

/** The tail every mode shares: the loss's value, backward, one AdamW step. */
function finishStep(phases: Partial<Record<Phase, number>>, loss: Tensor, optimizer: AdamW): StepTiming {
  const value = loss.item();
  timed(phases, 'backward', () => backward(loss));
  timed(phases, 'optimizer', () => {
    optimizer.step();
    optimizer.zeroGrad();
  });
  return { phases, loss: value };
}

/** A forward pass's sequence log-probs, split into the chosen and rejected halves, and its latents. */
function pairForward(model: CausalLM, batch: ModelBatch) {
  const out = model.forward(batch);
  return { logps: splitPairs(sequenceLogps(out.logits, batch)), latents: out.latents };
}

/** One mode's step as a closure over its own fresh models and optimizers (every mode starts from the same weights). */
export function buildStep(s: BenchShape, mode: BenchMode): () => StepTiming {
  const config = modelConfigOf(s);
  const policy = new CausalLM(config, { rng: Rng.seeded(0) }).train();
  const optimizer = new AdamW(policy.namedParameters(), { lr: 1e-4, weightDecay: 0.01 });
  const batch = syntheticBatch(s);
  if (mode === 'sft') {
    return () => {
      const phases: Partial<Record<Phase, number>> = {};
      const out = timed(phases, 'policy forward', () => policy.forward(batch));
      return finishStep(phases, timed(phases, 'loss and adversarial term', () => sftLoss(out.logits, batch)), optimizer);
    };
  }
  const reference = freezeReference(policy);
  const objective = dpo({ beta: 0.1 });
  const ganpo: Ganpo | null =
    mode === 'dpo+ganpo'
      ? Ganpo.create(
          {
            lambda: 1, discLr: 5e-5, weightDecay: 0.01, width: s.discWidth, heads: s.discHeads, ffDim: s.discFf, discLayers: 1, dropout: 0,
            maxLen: s.seq, pooling: 'masked', spectralNorm: true, means: 'ema', momentum: 0.9, variant: 'quad', twoDiscriminators: true,
          },
          { latentDim: s.width },
        )
      : null;
  const [maskChosen, maskRejected] = halves(tensor(batch.attentionMask, { shape: [batch.rows, batch.seqLen], dtype: 'float32' }));
  return () => {
    const phases: Partial<Record<Phase, number>> = {};
    const ref = timed(phases, 'reference forward', () => noGrad(() => pairForward(reference, batch)));
    const pol = timed(phases, 'policy forward', () => pairForward(policy, batch));
    let latents: PairLatents | null = null;
    if (ganpo) {
      const regularizer = ganpo;
      latents = timed(phases, 'discriminator step', () => {
        const [policyChosen, policyRejected] = halves(pol.latents);
        const [refChosen, refRejected] = halves(ref.latents);
        const x: PairLatents = { policyChosen, policyRejected, refChosen, refRejected, maskChosen, maskRejected };
        regularizer.discriminatorStep(x);
        return x;
      });
    }
    const loss = timed(phases, 'loss and adversarial term', () => {
      const input: PairLogps = { ...pol.logps, refChosen: ref.logps.policyChosen, refRejected: ref.logps.policyRejected };
      const pref = objective(input).loss;
      return ganpo && latents ? add(pref, ganpo.term()(latents).loss) : pref;
    });
    return finishStep(phases, loss, optimizer);
  };
}
