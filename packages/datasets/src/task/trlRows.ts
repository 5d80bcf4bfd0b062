import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExampleMeta } from '../formats/examples.js';
import { writeJsonl } from '../io/writeJsonl.js';
import type { EmbeddedTask } from './embeddedTask.js';

/** TRL standard explicit rows `{prompt, chosen, rejected}`; meta fields become extra columns (TRL ignores them) placed first, so they never replace a text field. */
export function toTrlRows(
  pairs: ReadonlyArray<{ readonly prompt: string; readonly chosen: string; readonly rejected: string; readonly meta?: ExampleMeta }>,
): Array<Record<string, unknown>> {
  return pairs.map((p) => ({ ...p.meta, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected }));
}

/** TRL prompt-completion rows `{prompt, completion}`, meta fields as extra columns. */
export function toTrlPromptCompletionRows(
  examples: ReadonlyArray<{ readonly prompt: string; readonly completion: string; readonly meta?: ExampleMeta }>,
): Array<Record<string, unknown>> {
  return examples.map((e) => ({ ...e.meta, prompt: e.prompt, completion: e.completion }));
}

export interface EmbeddedTaskFiles {
  readonly sft: string;
  readonly train: string;
  readonly eval: string;
  readonly heldOut: string;
}

/**
 * Writes the task as JSONL files in `dir` (created if needed), each atomically:
 * `sft.jsonl` and `heldout.jsonl` (prompt-completion; held-out completions are the reference answers),
 * `train.jsonl` and `eval.jsonl` (TRL preference rows). They read back through `readPreferenceFile`
 * like any user data.
 */
export async function writeEmbeddedTask(dir: string, task: EmbeddedTask): Promise<EmbeddedTaskFiles> {
  await mkdir(dir, { recursive: true });
  const files: EmbeddedTaskFiles = {
    sft: join(dir, 'sft.jsonl'),
    train: join(dir, 'train.jsonl'),
    eval: join(dir, 'eval.jsonl'),
    heldOut: join(dir, 'heldout.jsonl'),
  };
  await writeJsonl(files.sft, toTrlPromptCompletionRows(task.sft));
  await writeJsonl(files.train, toTrlRows(task.trainPairs));
  await writeJsonl(files.eval, toTrlRows(task.evalPairs));
  await writeJsonl(files.heldOut, toTrlPromptCompletionRows(task.heldOut.map((h) => ({ prompt: h.prompt, completion: h.answer, meta: { task: h.task } }))));
  return files;
}
