// The browser-safe part of @ganpo/datasets (no Node built-ins): formats, chat templates, in-memory decoding,
// the byte tokenizer, batching, seeded randomness and the embedded task. index.ts adds files and Hugging Face
// tokenizers for Node.
// Formats: one normalized example type out of every supported row shape.
export type { PreferenceExample, SftExample, UnpairedExample, DatasetExample, ExampleMeta, PairMessages, SequenceMessages } from './formats/examples.js';
export { isPreferenceExample, isSftExample, isUnpairedExample } from './formats/examples.js';
export { FORMAT_NAMES, ROW_FORMATS, isFormatName, detectFormat, decodeRow, rowFormat } from './formats/rowFormats.js';
export type { FormatName, RowFormat, RowDecodeResult } from './formats/rowFormats.js';
export type { Issue } from './formats/decodeIssues.js';
export { renderIssue } from './formats/decodeIssues.js';
export type { Message } from './formats/chatTemplate.js';
export { renderPrompt, renderCompletion, renderTurn, ASSISTANT_HEADER } from './formats/chatTemplate.js';
export { compileChatTemplate, type HfChatTemplate, type ChatSegment } from './formats/hfChatTemplate.js';
export { chatTemplateOf, conversationPrompt, conversationCompletion, ChatTemplateError, type ConversationPrompt } from './batching/chatTokenize.js';
export { implicitPromptLength, commonMessagePrefixLength } from './formats/commonPrefix.js';
export { splitHhTranscript } from './formats/hhRlhf.js';
export * as codecs from './formats/codecs.js';

// Decoding preference files already in memory (reading from disk is in the Node entry, index.ts).
export { decodePreferenceBytes, DEFAULT_MAX_LINE_BYTES, DEFAULT_PROBE_LINES } from './io/decodeBytes.js';
export type { DecodeBytesOptions } from './io/decodeBytes.js';
export type { ReadRecord } from './io/fileDecoder.js';
export type { LineError } from './io/lineErrors.js';

// Tokenizers.
export type { Tokenizer, TokenizerJson, ByteTokenizerJson, HfTokenizerJson, LegacyBpeTokenizerJson, DecodeOptions, SpecialTokenNames } from './tokenizers/tokenizer.js';
export { byteTokenizer, BYTE_PAD, BYTE_BOS, BYTE_EOS, BYTE_VOCAB_SIZE, BYTE_SPECIAL_TOKENS } from './tokenizers/byteTokenizer.js';
export { tokenizerJsonFromVocabAndMerges } from './tokenizers/gpt2VocabMerges.js';

// Batching.
export type { Batch, SequenceBatch, UnpairedBatch } from './batching/batch.js';
export { collatePairs, collateSequences, collateUnpaired, tokenizeRow, pairRows, sequenceRow, packRows } from './batching/collate.js';
export type { CollateOptions, Collated, DroppedExample } from './batching/collate.js';
export { truncateRow } from './batching/truncate.js';
export type { TruncationMode, TruncationOptions, TokenizedRow } from './batching/truncate.js';
export { splitTrainEval, epochBatches, trainingBatches } from './batching/schedule.js';
export type { SplitOptions, EpochOptions, TrainingBatch } from './batching/schedule.js';

// Seeded randomness.
export { createRng, deriveSeed, randomInt, randomUnit, bernoulli, pickOne, pickWeighted } from './random/rng.js';
export type { Rng } from './random/rng.js';
export { shuffled, shuffleWith, sampleIndices } from './random/shuffle.js';

// The embedded task.
export { TASK_NAMES, PROMPT_END, parseTaskPrompt, hasAnswerShape, sampleTaskInstance } from './task/tasks.js';
export type { TaskName, TaskInstance } from './task/tasks.js';
export { reward, rewardBreakdown, isFormatCompliant, isCorrect, REWARD_WEIGHTS } from './task/reward.js';
export { responseFromIds } from './task/responseFromIds.js';
export type { TaskResponse, RewardBreakdown } from './task/reward.js';
export { editDistance, normalizedEditDistance } from './task/editDistance.js';
export { CORRUPTIONS, UNIFORM_CORRUPTIONS, corruptAnswer, teacherSample } from './task/teacher.js';
export type { Corruption, CorruptionWeights, TeacherSample } from './task/teacher.js';
export { teacherDemonstration, teacherPair, flipTaskPair } from './task/teacherPairs.js';
export type { TaskPair, TaskPairMeta, TaskDemonstration, TaskDemonstrationMeta } from './task/teacherPairs.js';
export { flipPreferenceLabels, labelNoiseCount } from './task/labelNoise.js';
export { embeddedTask } from './task/embeddedTask.js';
export type { EmbeddedTask } from './task/embeddedTask.js';
export { shiftedSplit, inverseTaskMix } from './task/shiftedSplit.js';
export type { ShiftOptions, ShiftedSplit } from './task/shiftedSplit.js';
export { EmbeddedTaskOptionsCodec, decodeEmbeddedTaskOptions, resolveEmbeddedTaskOptions } from './task/embeddedTaskOptions.js';
export type { EmbeddedTaskOptions, ResolvedEmbeddedTaskOptions, LengthRange } from './task/embeddedTaskOptions.js';
