import { pickOne, randomInt, type Rng } from '../random/rng.js';
import { sampleIndices } from '../random/shuffle.js';

/**
 * The embedded task: short text instructions with one exact answer each.
 *
 * | task    | prompt (then "\n")  | answer              |
 * |---------|---------------------|---------------------|
 * | sort    | `sort: d b a c`     | `a b c d`           |
 * | reverse | `reverse: hello`    | `olleh`             |
 * | count   | `count a: banana`   | `3`                 |
 * | upper   | `upper: abc`        | `ABC`               |
 * | list    | `list: x,y,z`       | `- x\n- y\n- z`     |
 *
 * The completion is the answer and nothing else; EOS must come right after it.
 */
export const TASK_NAMES = ['sort', 'reverse', 'count', 'upper', 'list'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** Ends every task prompt, so that the model sees where the answer starts. */
export const PROMPT_END = '\n';

export interface TaskInstance {
  readonly task: TaskName;
  /** The prompt as it appears in the data, `PROMPT_END` included. */
  readonly prompt: string;
  readonly answer: string;
  /** The task's input as written in the prompt (letters, word or items). */
  readonly input: string;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/** A small alphabet for `count`, so that the counted letter occurs a few times. */
const COUNT_LETTERS = 'abcde';

interface TaskSpec {
  readonly pattern: RegExp;
  /** What a well-formed answer looks like (exact tokens and separators). */
  readonly answerShape: RegExp;
  readonly answer: (m: RegExpExecArray) => string;
  readonly input: (m: RegExpExecArray) => string;
}

const SPECS: Readonly<Record<TaskName, TaskSpec>> = {
  sort: {
    pattern: /^sort: ([a-z](?: [a-z])*)$/,
    answerShape: /^[a-z](?: [a-z])*$/,
    answer: (m) => m[1].split(' ').sort().join(' '),
    input: (m) => m[1],
  },
  reverse: {
    pattern: /^reverse: ([a-z]+)$/,
    answerShape: /^[a-z]+$/,
    answer: (m) => [...m[1]].reverse().join(''),
    input: (m) => m[1],
  },
  count: {
    pattern: /^count ([a-z]): ([a-z]+)$/,
    answerShape: /^(?:0|[1-9][0-9]*)$/,
    answer: (m) => String([...m[2]].filter((c) => c === m[1]).length),
    input: (m) => m[2],
  },
  upper: {
    pattern: /^upper: ([a-z]+)$/,
    answerShape: /^[A-Z]+$/,
    answer: (m) => m[1].toUpperCase(),
    input: (m) => m[1],
  },
  list: {
    pattern: /^list: ([a-z]+(?:,[a-z]+)*)$/,
    answerShape: /^- [a-z]+(?:\n- [a-z]+)*$/,
    answer: (m) => m[1].split(',').map((x) => `- ${x}`).join('\n'),
    input: (m) => m[1],
  },
};

/** The task instance a prompt asks for (with or without the final "\n"), or null if it is not one. */
export function parseTaskPrompt(prompt: string): TaskInstance | null {
  const body = prompt.endsWith(PROMPT_END) ? prompt.slice(0, -PROMPT_END.length) : prompt;
  for (const task of TASK_NAMES) {
    const m = SPECS[task].pattern.exec(body);
    if (m) return { task, prompt: body + PROMPT_END, answer: SPECS[task].answer(m), input: SPECS[task].input(m) };
  }
  return null;
}

/** Whether a text has the exact shape of an answer to this task (ignoring whether it is correct). */
export const hasAnswerShape = (task: TaskName, text: string): boolean => SPECS[task].answerShape.test(text);

const randomWord = (rng: Rng, alphabet: string, length: number): string =>
  Array.from({ length }, () => alphabet[randomInt(rng, 0, alphabet.length - 1)]).join('');

/** The prompt body (before "\n") for a random instance of a task; `length` is its number of letters or items. */
function sampleBody(rng: Rng, task: TaskName, length: number): string {
  switch (task) {
    case 'sort':
      // Distinct letters: one unambiguous order, and a swap always changes the answer.
      return `sort: ${sampleIndices(rng, LETTERS.length, length).map((i) => LETTERS[i]).join(' ')}`;
    case 'reverse':
      return `reverse: ${randomWord(rng, LETTERS, length)}`;
    case 'count':
      return `count ${pickOne(rng, [...COUNT_LETTERS])}: ${randomWord(rng, COUNT_LETTERS, length)}`;
    case 'upper':
      return `upper: ${randomWord(rng, LETTERS, length)}`;
    case 'list':
      return `list: ${Array.from({ length }, () => LETTERS[randomInt(rng, 0, LETTERS.length - 1)]).join(',')}`;
  }
}

/** A random instance of a task with an input of `length` letters or items (sort: at most 26). */
export function sampleTaskInstance(rng: Rng, task: TaskName, length: number): TaskInstance {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`task input length must be a positive integer, got ${length}`);
  if (task === 'sort' && length > LETTERS.length) throw new RangeError(`sort takes at most ${LETTERS.length} distinct letters, got ${length}`);
  return parseTaskPrompt(sampleBody(rng, task, length))!;
}
