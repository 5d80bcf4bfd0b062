import * as E from 'fp-ts/lib/Either.js';
import { namespaced, weighted } from './combinators.js';
import {
  type AvailableInputs, type InputRequirements, type PreferenceConfig, type PreferenceLossName, type PreferenceSpec,
  type ResolvedPreferenceConfig, isReferenceLoss, missingInputs, requirementsOf, resolvePreferenceConfig,
} from './config.js';
import { ObjectiveConfigError } from './errors.js';
import { checkPairLogps } from './inputs.js';
import { pairwiseTerm } from './pairwise.js';
import { REFERENCE_FREE } from './reference-free.js';
import type { Objective, PairLogps } from './types.js';

/** A preference objective, with what it was built from: still just an `Objective<PairLogps>`. */
export type PreferenceObjective = Objective<PairLogps> & {
  readonly lossName: PreferenceLossName;
  readonly config: ResolvedPreferenceConfig;
  /** The inputs it reads (check them against the data pipeline before training). */
  readonly requirements: InputRequirements;
};

export interface PreferenceLossOptions {
  /** What the data pipeline provides; a required input declared missing is an error here, at build time. */
  available?: AvailableInputs;
}

/**
 * The objective for TRL loss type `name`. The configuration is checked now: an option out of range, one the loss does
 * not read, or (with `options.available`) an input the loss needs but the pipeline lacks, throws an ObjectiveConfigError
 * naming every problem. Inputs are checked on each call (missing tensors, shapes, NaN log-probs) with an ObjectiveInputError.
 */
export function preferenceLoss(
  name: PreferenceLossName,
  config: PreferenceConfig = {},
  options: PreferenceLossOptions = {},
): PreferenceObjective {
  const resolved = resolvePreferenceConfig(name, config);
  if (E.isLeft(resolved)) throw new ObjectiveConfigError(resolved.left);
  const c = resolved.right;
  const requirements = requirementsOf(name, c);
  if (options.available) {
    const missing = missingInputs(`preferenceLoss('${name}')`, requirements, options.available);
    if (missing.length > 0) throw new ObjectiveConfigError(missing);
  }
  const where = `preferenceLoss('${name}')`;
  const objective: Objective<PairLogps> = isReferenceLoss(name)
    ? (input) => {
        checkPairLogps(where, requirements, input);
        return pairwiseTerm(name, input, c);
      }
    : (input) => {
        checkPairLogps(where, requirements, input);
        return REFERENCE_FREE[name](input, c);
      };
  return Object.assign(objective, { lossName: name, config: c, requirements });
}

/**
 * An objective from decoded specs (see `decodePreferenceSpecs`): one spec is that loss with TRL's metric names;
 * several are TRL's weighted sum, each term's metrics prefixed with its `name` (default: its loss name).
 */
export function preferenceObjective(specs: readonly PreferenceSpec[], options: PreferenceLossOptions = {}): Objective<PairLogps> {
  if (specs.length === 0) throw new ObjectiveConfigError(['an objective needs at least one term']);
  const build = ({ loss, weight: _w, name: _n, ...config }: PreferenceSpec) => preferenceLoss(loss, config, options);
  if (specs.length === 1) {
    const only = build(specs[0]);
    return weighted([[specs[0].weight ?? 1, only]]);
  }
  return weighted(specs.map((s) => [s.weight ?? 1, namespaced(s.name ?? s.loss, build(s))] as const));
}

// Named exports, one per loss (TRL name in the comment).
type Builder = (config?: PreferenceConfig, options?: PreferenceLossOptions) => PreferenceObjective;
const named = (name: PreferenceLossName): Builder => (config, options) => preferenceLoss(name, config, options);

/** `sigmoid`: DPO −log σ(βh), or cDPO with labelSmoothing. */
export const dpo = named('sigmoid');
/** `hinge`: SLiC max(0, 1 − βh). */
export const hinge = named('hinge');
/** `ipo`: (h̄ − 1/(2β))² on token-averaged log-ratios. */
export const ipo = named('ipo');
/** `exo_pair`: EXO, the reverse KL to the ε-smoothed label distribution. */
export const exoPair = named('exo_pair');
/** `nca_pair`: NCA. */
export const ncaPair = named('nca_pair');
/** `robust`: robust DPO, unbiased under label-flip rate ε. */
export const robust = named('robust');
/** `bco_pair`: BCO on pairs. */
export const bcoPair = named('bco_pair');
/** `sppo_hard`: SPPO with hard win probabilities. */
export const sppoHard = named('sppo_hard');
/** `aot`: AOT, paired. */
export const aot = named('aot');
/** `aot_unpaired`: AOT, unpaired. */
export const aotUnpaired = named('aot_unpaired');
/** `apo_zero`: APO-zero. */
export const apoZero = named('apo_zero');
/** `apo_down`: APO-down. */
export const apoDown = named('apo_down');
/** `discopop`: DiscoPOP's log-ratio modulated loss. */
export const discopop = named('discopop');
/** `sft`: token-mean NLL of the chosen completions. */
export const sft = named('sft');
/** `sigmoid_norm`: length-normalized DPO. */
export const sigmoidNorm = named('sigmoid_norm');
/** `simpo`: SimPO. */
export const simpo = named('simpo');
/** `cpo`: CPO. */
export const cpo = named('cpo');
/** `orpo`: ORPO. */
export const orpo = named('orpo');
