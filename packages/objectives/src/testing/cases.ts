import type { PreferenceConfig, PreferenceLossName } from '../config.js';

/** One configured loss to exercise: every loss with its defaults, and every option on a loss that reads it. */
export interface LossCase {
  label: string;
  name: PreferenceLossName;
  config: PreferenceConfig;
  /** Needs per-token inputs. */
  tokens: boolean;
  /** Inputs that reach the loss only through a stop-gradient (WPO weights): their gradient is 0 by design. */
  stopGradient: readonly string[];
  /**
   * The loss grows exponentially in the log-ratios (forward-KL and α-divergence scores, DiscoPOP with τ > 1): at large
   * |Δ| one pair's loss dwarfs the others' and finite differences cannot resolve their gradients.
   */
  exponential: boolean;
}

const WPO_STOP = [
  'tokens.policyChosen', 'tokens.policyRejected', 'tokens.maskChosen', 'tokens.maskRejected',
  'tokens.logSumSquaredProbsChosen', 'tokens.logSumSquaredProbsRejected',
];

const k = (label: string, name: PreferenceLossName, config: PreferenceConfig = {}, tokens = false): LossCase => ({
  label,
  name,
  config,
  tokens,
  stopGradient: config.useWeighting ? WPO_STOP : [],
  exponential: (config.fDivergence !== undefined && config.fDivergence !== 'js_divergence' && config.fDivergence !== 'reverse_kl')
    || (config.tau ?? 0) > 1,
});

export const LOSS_CASES: LossCase[] = [
  k('sigmoid', 'sigmoid'),
  k('sigmoid cDPO', 'sigmoid', { labelSmoothing: 0.2 }),
  k('sigmoid R-DPO', 'sigmoid', { lengthPenalty: 0.1 }),
  k('sigmoid forward KL', 'sigmoid', { fDivergence: 'forward_kl' }),
  k('sigmoid JS', 'sigmoid', { fDivergence: 'js_divergence' }),
  k('sigmoid α-divergence', 'sigmoid', { fDivergence: { type: 'alpha_divergence', alpha: 0.3 } }),
  k('sigmoid reference-free', 'sigmoid', { referenceFree: true }),
  k('hinge', 'hinge', { beta: 0.3 }),
  k('ipo', 'ipo'),
  k('ipo forward KL', 'ipo', { fDivergence: 'forward_kl' }),
  k('exo_pair', 'exo_pair'),
  k('exo_pair JS', 'exo_pair', { labelSmoothing: 0.05, fDivergence: 'js_divergence' }),
  k('nca_pair', 'nca_pair'),
  k('robust', 'robust', { labelSmoothing: 0.3 }),
  k('robust α-divergence', 'robust', { labelSmoothing: 0.1, fDivergence: 'alpha_divergence' }),
  k('bco_pair', 'bco_pair'),
  k('sppo_hard', 'sppo_hard'),
  k('aot', 'aot', { labelSmoothing: 0.1 }),
  k('aot_unpaired', 'aot_unpaired'),
  k('apo_zero', 'apo_zero'),
  k('apo_down', 'apo_down'),
  k('discopop', 'discopop'),
  k('discopop τ = 2', 'discopop', { tau: 2 }),
  k('sft', 'sft'),
  k('sigmoid_norm', 'sigmoid_norm'),
  k('simpo', 'simpo'),
  k('simpo cDPO', 'simpo', { labelSmoothing: 0.1, gamma: 0.8 }),
  k('simpo hinge', 'simpo', { simpoHinge: true }),
  k('cpo', 'cpo'),
  k('orpo', 'orpo'),
  k('sigmoid LD-DPO', 'sigmoid', { ldAlpha: 0.4 }, true),
  k('aot_unpaired LD-DPO', 'aot_unpaired', { ldAlpha: 0.6 }, true),
  k('sigmoid_norm LD-DPO reference-free', 'sigmoid_norm', { ldAlpha: 0.2, referenceFree: true }, true),
  k('sigmoid WPO', 'sigmoid', { useWeighting: true }, true),
  k('ipo WPO + LD-DPO', 'ipo', { useWeighting: true, ldAlpha: 0.5 }, true),
  k('discopop WPO', 'discopop', { useWeighting: true }, true),
];
