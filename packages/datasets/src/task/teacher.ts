import { bernoulli, pickOne, pickWeighted, randomInt, type Rng } from '../random/rng.js';
import { TASK_NAMES, type TaskInstance, type TaskName } from './tasks.js';

/**
 * The ways the noisy teacher gets an answer wrong, modelled on what small language models do:
 * - `off_by_one`: a count one too high or low; one item or letter missing or doubled.
 * - `wrong_order`: two neighbouring items or letters swapped; or the input left in its original order.
 * - `extra_text`: chatter around the answer (`answer: a b c`, `a b c.`).
 * - `missing_eos`: no EOS after the answer: the text runs on (repeats itself, or starts another
 *   instruction) until it finally stops.
 * Every corruption changes the text, so its reward is below 1.
 */
export const CORRUPTIONS = ['off_by_one', 'wrong_order', 'extra_text', 'missing_eos'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

export interface TeacherSample {
  readonly text: string;
  /** Null when the sample is the exact answer. */
  readonly corruption: Corruption | null;
}

/** How an answer splits into the units a corruption moves around, and how they join back. */
function unitsOf(task: TaskName, answer: string): { units: string[]; separator: string } {
  switch (task) {
    case 'sort':
      return { units: answer.split(' '), separator: ' ' };
    case 'list':
      return { units: answer.split('\n'), separator: '\n' };
    default:
      return { units: [...answer], separator: '' };
  }
}

function offByOne(rng: Rng, instance: TaskInstance): string {
  if (instance.task === 'count') {
    const n = Number(instance.answer);
    return String(n === 0 || bernoulli(rng, 0.5) ? n + 1 : n - 1);
  }
  const { units, separator } = unitsOf(instance.task, instance.answer);
  const i = randomInt(rng, 0, units.length - 1);
  const out = units.slice();
  if (units.length > 1 && bernoulli(rng, 0.5)) out.splice(i, 1);
  else out.splice(i, 0, units[i]);
  return out.join(separator);
}

/** Null when the answer has no two different neighbours to swap and no other order to show. */
function wrongOrder(rng: Rng, instance: TaskInstance): string | null {
  const { task, answer, input } = instance;
  if (task === 'count') return null;
  if ((task === 'sort' || task === 'reverse') && bernoulli(rng, 0.5) && input !== answer) return input;
  const { units, separator } = unitsOf(task, answer);
  const swappable = units.slice(0, -1).flatMap((u, i) => (u !== units[i + 1] ? [i] : []));
  if (swappable.length === 0) return null;
  const i = pickOne(rng, swappable);
  const out = units.slice();
  [out[i], out[i + 1]] = [out[i + 1], out[i]];
  return out.join(separator);
}

const PREFIXES = ['answer: ', 'ok ', 'sure: ', 'the answer is '];
const SUFFIXES = ['.', '!', ' ok', ' done'];

function extraText(rng: Rng, answer: string): string {
  return bernoulli(rng, 0.5) ? pickOne(rng, PREFIXES) + answer : answer + pickOne(rng, SUFFIXES);
}

function runOn(rng: Rng, instance: TaskInstance): string {
  if (bernoulli(rng, 0.5)) return `${instance.answer}\n${instance.answer}`;
  const next = pickOne(rng, TASK_NAMES);
  const letters = Array.from({ length: randomInt(rng, 1, 3) }, () => String.fromCharCode(97 + randomInt(rng, 0, 25)));
  return `${instance.answer}\n${next === 'count' ? `count ${letters[0]}` : next}: ${letters.join(' ')}`;
}

/** The answer corrupted in the given way (falling back to another way when that one cannot apply). */
export function corruptAnswer(rng: Rng, instance: TaskInstance, kind: Corruption): TeacherSample {
  switch (kind) {
    case 'off_by_one':
      return { text: offByOne(rng, instance), corruption: 'off_by_one' };
    case 'wrong_order': {
      const text = wrongOrder(rng, instance);
      return text !== null && text !== instance.answer ? { text, corruption: 'wrong_order' } : corruptAnswer(rng, instance, 'off_by_one');
    }
    case 'extra_text':
      return { text: extraText(rng, instance.answer), corruption: 'extra_text' };
    case 'missing_eos':
      return { text: runOn(rng, instance), corruption: 'missing_eos' };
  }
}

export type CorruptionWeights = Readonly<Record<Corruption, number>>;

export const UNIFORM_CORRUPTIONS: CorruptionWeights = { off_by_one: 1, wrong_order: 1, extra_text: 1, missing_eos: 1 };

/** One teacher sample: the exact answer with probability `accuracy`, otherwise a weighted corruption. */
export function teacherSample(
  rng: Rng,
  instance: TaskInstance,
  accuracy: number,
  corruptionWeights: CorruptionWeights = UNIFORM_CORRUPTIONS,
): TeacherSample {
  if (bernoulli(rng, accuracy)) return { text: instance.answer, corruption: null };
  const kind = CORRUPTIONS[pickWeighted(rng, CORRUPTIONS.map((c) => corruptionWeights[c]))];
  return corruptAnswer(rng, instance, kind);
}
