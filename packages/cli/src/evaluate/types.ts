/** What `ganpo eval` measures, as data (written to `OUT/eval.json` and into the report). */

/** Implicit-reward statistics of the policy against the reference on held-out pairs (TRL's names). */
export interface PreferenceEval {
  readonly pairs: number;
  /** mean[Δc > Δr] */
  readonly accuracy: number;
  /** mean β(Δc − Δr) */
  readonly margin: number;
  readonly chosenReward: number;
  readonly rejectedReward: number;
  /** The preference loss on the held-out pairs. */
  readonly loss: number;
  /** Fraction of pairs where the policy gives the chosen response a higher log-prob than the rejected one. */
  readonly policyLogpAccuracy: number;
  /** The same for the reference model (where the policy started). */
  readonly referenceLogpAccuracy: number;
}

/** Sampled responses of one model at one temperature, scored by the embedded task's ground truth. */
export interface SampleStats {
  /** Mean ground-truth reward in [0, 1]. */
  readonly reward: number;
  /** Fraction of responses in the task's answer format. */
  readonly formatCompliance: number;
  /** Mean response length in characters. */
  readonly meanLength: number;
}

export interface SamplingEval {
  readonly temperature: number;
  readonly prompts: number;
  readonly policy: SampleStats;
  readonly reference: SampleStats;
  /** Fraction of prompts where the policy's response scores higher than the reference's (ties count ½). */
  readonly winRate: number;
}

/** Divergence from the reference on held-out sequences. */
export interface DriftEval {
  /** Mean over response tokens of KL(π ‖ π_ref) of the next-token distributions. */
  readonly tokenKl: number;
  /** Mean over sequences of ‖mean-pooled policy latents − mean-pooled reference latents‖₂ / √d. */
  readonly latentDrift: number;
  /** The same distance relative to the reference latents' norm. */
  readonly relativeLatentDrift: number;
}

export interface EvalResult {
  /** What was evaluated: the policy directory and the reference directory. */
  readonly policy: string;
  readonly reference: string;
  readonly task: 'embedded' | 'user';
  readonly preference: PreferenceEval | null;
  readonly sampling: readonly SamplingEval[];
  readonly drift: DriftEval | null;
  readonly seconds: number;
}
