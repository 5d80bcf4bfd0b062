import { type Problem, decodeWith, int, num, problem, refineWith, renderProblem, strict } from '@ganpo/codecs';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { CORRUPTIONS, type CorruptionWeights } from './teacher.js';
import { TASK_NAMES, type TaskName } from './tasks.js';

/** Input lengths, in letters or items, both ends included. */
interface OrderedLengthsBrand {
  readonly OrderedLengths: unique symbol;
}
const Lengths = strict(t.type({ min: int({ ge: 1 }), max: int({ ge: 1 }) }), 'LengthRange');
const LengthRangeCodec = Object.assign(
  t.brand(Lengths, (r): r is t.Branded<t.TypeOf<typeof Lengths>, OrderedLengthsBrand> => r.min <= r.max, 'OrderedLengths'),
  { name: 'integers with 1 ≤ min ≤ max' },
);
export type LengthRange = Readonly<t.OutputOf<typeof LengthRangeCodec>>;

/** Relative weights by name: finite and ≥ 0; a name left out weighs 0. */
const weightsOf = <K extends string>(keys: readonly K[]) =>
  strict(t.partial(Object.fromEntries(keys.map((k) => [k, num({ ge: 0 })])) as { [P in K]: ReturnType<typeof num> }));

/**
 * The knobs of the embedded task, as an io-ts codec: the single source of their types, ranges and names (the CLI's
 * `data.task` section is decoded by it too). Defaults are in {@link decodeEmbeddedTaskOptions}.
 */
export const EmbeddedTaskOptionsCodec = strict(
  t.intersection([
    t.type({ seed: int() }),
    t.partial({
      /** SFT demonstrations (default 2000). */
      nSft: int({ ge: 0 }),
      /** Training preference pairs (default 1000). */
      nTrain: int({ ge: 0 }),
      /** Evaluation preference pairs, at `evalLengths`, never label-flipped (default 200). */
      nEval: int({ ge: 0 }),
      /** Held-out prompts with reference answers, at `evalLengths`, for generation (default 200). */
      nHeldOut: int({ ge: 0 }),
      /** Probability that an SFT demonstration is the exact answer (default 0.9). */
      sftAccuracy: num({ ge: 0, le: 1 }),
      /** Probability that each of a pair's two teacher samples is the exact answer (default 0.5). */
      pairAccuracy: num({ ge: 0, le: 1 }),
      /** Fraction of training pairs whose labels are swapped: exactly round(rate · nTrain) (default 0). */
      labelNoise: num({ ge: 0, le: 1 }),
      /** Input lengths for SFT and training pairs (default 3–5). */
      trainLengths: LengthRangeCodec,
      /** Input lengths for evaluation pairs and held-out prompts (default: same as train). Longer = distribution shift. */
      evalLengths: LengthRangeCodec,
      /** Relative weight of each task (default: all 1). A task with weight 0 is never drawn. */
      taskMix: weightsOf(TASK_NAMES),
      /** Relative weight of each teacher corruption (default: all 1). */
      corruptionMix: weightsOf(CORRUPTIONS),
    }),
  ]),
  'EmbeddedTaskOptions',
);
export type EmbeddedTaskOptions = Readonly<t.OutputOf<typeof EmbeddedTaskOptionsCodec>>;

export interface ResolvedEmbeddedTaskOptions {
  readonly seed: number;
  readonly nSft: number;
  readonly nTrain: number;
  readonly nEval: number;
  readonly nHeldOut: number;
  readonly sftAccuracy: number;
  readonly pairAccuracy: number;
  readonly labelNoise: number;
  readonly trainLengths: LengthRange;
  readonly evalLengths: LengthRange;
  readonly taskMix: Readonly<Record<TaskName, number>>;
  readonly corruptionMix: CorruptionWeights;
}

const DEFAULT_LENGTHS: LengthRange = { min: 3, max: 5 };

/** A weight table with every name: the given weights (missing names 0), or all 1 when none is given. */
const fullWeights = <K extends string>(keys: readonly K[], given: Partial<Record<K, number>> | undefined): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, given ? (given[k] ?? 0) : 1])) as Record<K, number>;

/** Constraints between knobs, on the options with their defaults. */
function crossChecks(o: ResolvedEmbeddedTaskOptions): Problem[] {
  const problems: Problem[] = [];
  if (Object.values(o.taskMix).every((w) => w === 0)) problems.push(problem('taskMix', 'at least one weight must be positive'));
  if (Object.values(o.corruptionMix).every((w) => w === 0)) problems.push(problem('corruptionMix', 'at least one weight must be positive'));
  if (o.taskMix.sort > 0 && Math.max(o.trainLengths.max, o.evalLengths.max) > 26)
    problems.push(problem('', 'sort uses distinct letters: input lengths must be at most 26 while sort is in taskMix'));
  if ((o.nTrain > 0 || o.nEval > 0) && o.pairAccuracy === 1)
    problems.push(problem('pairAccuracy', '1 makes both samples of every pair correct: every pair would be a tie'));
  return problems;
}

/** Decodes the options (types, ranges, unknown keys), fills in the defaults and checks the constraints between them. */
export function decodeEmbeddedTaskOptions(options: unknown): E.Either<Problem[], ResolvedEmbeddedTaskOptions> {
  return pipe(
    decodeWith(EmbeddedTaskOptionsCodec)(options),
    E.map((o): ResolvedEmbeddedTaskOptions => {
      const trainLengths = o.trainLengths ?? DEFAULT_LENGTHS;
      return {
        seed: o.seed,
        nSft: o.nSft ?? 2000,
        nTrain: o.nTrain ?? 1000,
        nEval: o.nEval ?? 200,
        nHeldOut: o.nHeldOut ?? 200,
        sftAccuracy: o.sftAccuracy ?? 0.9,
        pairAccuracy: o.pairAccuracy ?? 0.5,
        labelNoise: o.labelNoise ?? 0,
        trainLengths,
        evalLengths: o.evalLengths ?? trainLengths,
        taskMix: fullWeights(TASK_NAMES, o.taskMix),
        corruptionMix: fullWeights(CORRUPTIONS, o.corruptionMix),
      };
    }),
    E.chain(refineWith(crossChecks)),
  );
}

/** Fills in defaults and checks every knob; Left is one message listing what is wrong. */
export function resolveEmbeddedTaskOptions(options: EmbeddedTaskOptions): E.Either<string, ResolvedEmbeddedTaskOptions> {
  return pipe(
    decodeEmbeddedTaskOptions(options),
    E.mapLeft((problems) => `embedded task: ${problems.map((p) => renderProblem(p)).join('; ')}`),
  );
}
