import * as E from 'fp-ts/lib/Either.js';
import { GanpoConfig as GanpoConfigCodec, type GanpoConfig } from '@ganpo/adversarial';
import {
  PREFERENCE_OPTIONS,
  decodePreferenceSpecs,
  type InputRequirements,
  type KtoConfig,
  resolveKtoConfig,
  type PreferenceSpec,
  requirementsOf,
  resolvePreferenceConfig,
} from '@ganpo/objectives';
import { ConfigError } from '../errors.js';
import { problemsFromErrors } from './codecs.js';
import { deepMerge, decodeRunConfig, defaultRunConfig, type PartialRunConfig, type RunConfig, type Sources } from './runConfig.js';

/**
 * A decoded run config checked against the packages that own its parts: the objective (any loss and its
 * options, by the objectives package's codec) and the GANPO section (by the adversarial package's codec).
 */
export interface ResolvedRun {
  readonly config: RunConfig;
  readonly specs: readonly PreferenceSpec[];
  /** β of the first term (the implicit-reward scale used for metrics and evaluation). */
  readonly beta: number;
  /** What the objective reads, over all its terms. */
  readonly requirements: InputRequirements;
  /** The GANPO configuration (policy lr, schedule, seed filled in), or null when GANPO is off. */
  readonly ganpo: GanpoConfig | null;
  /** Whether the preference stage needs a reference forward pass (reference log-probs or latents). */
  readonly needsReference: boolean;
  /** A short description of the objective for logs and the report. */
  readonly objectiveText: string;
  /** KTO's options when the objective is `kto` (unpaired examples; `specs` is then empty), else null. */
  readonly kto: KtoConfig | null;
}

function flagFor(sources: Sources, path: string): string {
  const flag = sources.flags?.get(path);
  return flag ? ` (set by ${flag})` : '';
}

/** The option a message of the objectives package is about (`option 'gamma' …`, `beta: expected …`), for its flag. */
const OPTION_IN_MESSAGE = new RegExp(`(?:option '|\\b)(${[...PREFERENCE_OPTIONS, 'loss'].join('|')})(?:'|:)`);

/** The objective codec's messages as lines under `preference.objective`, each naming the flag of the option it is about. */
const objectiveProblemLines = (messages: readonly string[], sources: Sources): string[] =>
  messages.map((m) => {
    const k = OPTION_IN_MESSAGE.exec(m)?.[1];
    return `preference.objective: ${m}${k ? flagFor(sources, `preference.objective.${k}`) : ''}`;
  });

/** KTO, the one objective over unpaired examples: `{ "loss": "kto", "beta": ..., ... }`. */
function resolveKto(raw: Record<string, unknown>, sources: Sources): Pick<ResolvedRun, 'specs' | 'beta' | 'requirements' | 'objectiveText' | 'kto'> {
  const { loss: _loss, ...options } = raw;
  const r = resolveKtoConfig(options as KtoConfig);
  if (E.isLeft(r)) throw new ConfigError('invalid objective', objectiveProblemLines(r.left, sources));
  const o = Object.entries(options).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return {
    specs: [],
    beta: r.right.beta,
    requirements: { reference: true, tokens: false, tokenReference: false, logSumSquaredProbs: false },
    objectiveText: `kto${o.length > 0 ? `(${o.join(', ')})` : ''}`,
    kto: options as KtoConfig,
  };
}

export function resolveObjective(config: RunConfig, sources: Sources = {}): Pick<ResolvedRun, 'specs' | 'beta' | 'requirements' | 'objectiveText' | 'kto'> {
  const raw = config.preference.objective;
  if (!Array.isArray(raw) && (raw as { loss?: unknown }).loss === 'kto') return resolveKto(raw as Record<string, unknown>, sources);
  const decoded = decodePreferenceSpecs(raw);
  if (E.isLeft(decoded)) {
    // One line per problem (the codec can report the same one through several branches of a union).
    const problems = [...new Set(decoded.left)];
    const details = objectiveProblemLines(problems, sources);
    // The hint about loss names only when a loss name is what is wrong.
    const badName = problems.some((m) => /^(term \d+: )?loss: |unknown (preference )?loss/.test(m));
    throw new ConfigError('invalid objective', details, badName ? 'objective names are TRL loss_type strings (sigmoid, ipo, simpo, ..., and kto for unpaired data); see `ganpo train --help`' : undefined);
  }
  const specs = decoded.right;
  const reqs = specs.map((s) => {
    const { loss, weight: _w, name: _n, ...options } = s;
    const r = resolvePreferenceConfig(loss, options);
    if (E.isLeft(r)) throw new ConfigError('invalid objective', r.left);
    return { spec: s, resolved: r.right, req: requirementsOf(loss, r.right) };
  });
  const requirements: InputRequirements = {
    reference: reqs.some((r) => r.req.reference),
    tokens: reqs.some((r) => r.req.tokens),
    tokenReference: reqs.some((r) => r.req.tokenReference),
    logSumSquaredProbs: reqs.some((r) => r.req.logSumSquaredProbs),
  };
  const text = specs
    .map((s) => {
      const { loss, weight, name: _n, ...opts } = s;
      const o = Object.entries(opts).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      return `${weight !== undefined && specs.length > 1 ? `${weight}·` : ''}${loss}${o.length > 0 ? `(${o.join(', ')})` : ''}`;
    })
    .join(' + ');
  return { specs, beta: reqs[0].resolved.beta, requirements, objectiveText: text, kto: null };
}

export function resolveGanpo(config: RunConfig, totalSteps: number, sources: Sources = {}): GanpoConfig | null {
  const { enabled, ...options } = config.ganpo as { enabled: boolean } & Record<string, unknown>;
  if (!enabled) return null;
  const p = config.preference;
  const input = {
    // docs/method.md §7: the discriminators follow the policy's schedule (cosine with its warmup) at half its rate.
    schedule: p.schedule === 'constant' ? 'constant' : 'cosine',
    warmupSteps: Math.min(p.warmup, totalSteps),
    totalSteps: Math.max(totalSteps, Math.min(p.warmup, totalSteps)),
    seed: config.seed,
    ...options,
    policyLr: p.lr > 0 ? p.lr : 1e-12,
  };
  const decoded = GanpoConfigCodec.decode(input);
  if (E.isLeft(decoded)) {
    const problems = problemsFromErrors(decoded.left).map((pr) => `ganpo${pr.path ? `.${pr.path}` : ''}: ${pr.reason}${pr.path ? flagFor(sources, `ganpo.${pr.path}`) : ''}`);
    throw new ConfigError('invalid GANPO configuration', problems);
  }
  return decoded.right;
}

/** Decodes a (partial) run config for the programmatic API: defaults, then `input`, checked throughout. */
export function runConfigFrom(input: PartialRunConfig | RunConfig | undefined): RunConfig {
  return decodeRunConfig(deepMerge(defaultRunConfig(), input ?? {}));
}

export function resolveRun(config: RunConfig, preferenceSteps: number, sources: Sources = {}): ResolvedRun {
  const objective = resolveObjective(config, sources);
  // GANPO pits chosen against rejected latents of one prompt: KTO's unpaired examples have no such pairs.
  const ganpo = config.stage === 'sft' || objective.kto ? null : resolveGanpo(config, preferenceSteps, sources);
  return { config, ...objective, ganpo, needsReference: objective.requirements.reference || objective.requirements.tokenReference || ganpo !== null };
}
