import { normalizedEditDistance } from './editDistance.js';
import { hasAnswerShape, parseTaskPrompt, type TaskInstance } from './tasks.js';

/**
 * A model's response to a task prompt. A plain string means the generation stopped with EOS right
 * after this text (as every completion in the data does: collation appends EOS). A generation cut by
 * the length limit before any EOS is `{ text, endedWithEos: false }`.
 */
export type TaskResponse = string | { readonly text: string; readonly endedWithEos: boolean };

/** Weights of the two parts of the reward; they sum to 1. */
export const REWARD_WEIGHTS = { correctness: 0.75, format: 0.25 } as const;

export interface RewardBreakdown {
  readonly reward: number;
  /** 1 − normalized edit distance between the response text and the exact answer. */
  readonly correctness: number;
  /** ½ for the exact answer shape (tokens and separators, nothing before or after) + ½ for EOS. */
  readonly format: number;
  readonly answerShape: boolean;
  readonly endedWithEos: boolean;
}

const asParts = (response: TaskResponse): { text: string; endedWithEos: boolean } =>
  typeof response === 'string' ? { text: response, endedWithEos: true } : response;

function instanceOf(prompt: string): TaskInstance {
  const instance = parseTaskPrompt(prompt);
  if (!instance) throw new Error(`reward: not an embedded-task prompt: ${JSON.stringify(prompt)}`);
  return instance;
}

/**
 * The ground-truth reward in [0, 1]:
 *
 *     reward = 0.75 · correctness + 0.25 · format
 *     correctness = 1 − editDistance(text, answer) / max(|text|, |answer|)
 *     format = ½ · [text has the task's exact answer shape] + ½ · [ended with EOS]
 *
 * It is 1 exactly when the text is the answer and EOS follows it. Throws on a prompt that is not a task prompt.
 */
export function rewardBreakdown(prompt: string, response: TaskResponse): RewardBreakdown {
  const { task, answer } = instanceOf(prompt);
  const { text, endedWithEos } = asParts(response);
  const correctness = 1 - normalizedEditDistance(text, answer);
  const answerShape = hasAnswerShape(task, text);
  const format = (answerShape ? 0.5 : 0) + (endedWithEos ? 0.5 : 0);
  const reward = REWARD_WEIGHTS.correctness * correctness + REWARD_WEIGHTS.format * format;
  return { reward, correctness, format, answerShape, endedWithEos };
}

export const reward = (prompt: string, response: TaskResponse): number => rewardBreakdown(prompt, response).reward;

/** The response has the exact answer shape for its task and ended with EOS (it may still be wrong). */
export function isFormatCompliant(prompt: string, response: TaskResponse): boolean {
  const b = rewardBreakdown(prompt, response);
  return b.answerShape && b.endedWithEos;
}

/** The response is the exact answer followed by EOS. */
export const isCorrect = (prompt: string, response: TaskResponse): boolean => rewardBreakdown(prompt, response).reward === 1;
