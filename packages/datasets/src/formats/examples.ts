import type { Message } from './chatTemplate.js';

/** Extra facts carried along with an example (scores, ids, task names); never read by batching. */
export type ExampleMeta = Readonly<Record<string, string | number | boolean>>;

/**
 * One preference pair, normalized: plain text, the prompt shared by both completions.
 * `prompt + chosen` is the full chosen text (no BOS/EOS: tokenization adds them).
 */
export interface PreferenceExample {
  readonly kind: 'pair';
  readonly prompt: string;
  readonly chosen: string;
  readonly rejected: string;
  readonly meta?: ExampleMeta;
  /** Conversational rows: the messages, for a model's own chat template (the texts use the fixed one). */
  readonly messages?: PairMessages;
}

export interface PairMessages {
  readonly prompt: ReadonlyArray<Message>;
  readonly chosen: ReadonlyArray<Message>;
  readonly rejected: ReadonlyArray<Message>;
}

/** The messages of a conversational prompt–completion row (SFT or unpaired). */
export interface SequenceMessages {
  readonly prompt: ReadonlyArray<Message>;
  readonly completion: ReadonlyArray<Message>;
}

/** One demonstration for supervised fine-tuning (TRL's prompt-completion rows). */
export interface SftExample {
  readonly kind: 'sft';
  readonly prompt: string;
  readonly completion: string;
  readonly meta?: ExampleMeta;
  readonly messages?: SequenceMessages;
}

/** One unpaired (KTO) row: a completion labelled desirable (`true`) or undesirable (`false`). */
export interface UnpairedExample {
  readonly kind: 'unpaired';
  readonly prompt: string;
  readonly completion: string;
  readonly label: boolean;
  readonly meta?: ExampleMeta;
  readonly messages?: SequenceMessages;
}

export type DatasetExample = PreferenceExample | SftExample | UnpairedExample;

export const isPreferenceExample = (e: DatasetExample): e is PreferenceExample => e.kind === 'pair';
export const isSftExample = (e: DatasetExample): e is SftExample => e.kind === 'sft';
export const isUnpairedExample = (e: DatasetExample): e is UnpairedExample => e.kind === 'unpaired';
