// Browser entry point (`@ganpo/cli/browser`): the parts of `ganpo train` with no file system and no Node
// built-in in them: the run configuration, the embedded task's data, a preset's fresh policy, length limits,
// the stages and one optimizer step. The web page (apps/web) trains with exactly these, so a page run and
// `ganpo train` with the same settings take the same steps (apps/web/README.md, "Same numbers as Node").
export { decodeRunConfig, deepMerge, defaultRunConfig, type LoopConfig, type PartialRunConfig, type RunConfig } from './config/runConfig.js';
export { resolveRun, type ResolvedRun } from './config/resolve.js';
export type { Demo, RunData } from './train/data.js';
export { embeddedTaskData } from './train/embedded.js';
export { isPreset, presetPolicy } from './train/preset.js';
export { fitRunData, lengthLimitOf } from './train/truncation.js';
export { stageSteps } from './train/schedule.js';
export { sftStage } from './train/stages/sft.js';
export { preferenceStage } from './train/stages/preference.js';
export { newOptimizer, optimizerStep, type StageDescription, type StageStart } from './train/step.js';
export { evalSetsOf, preferenceEvalHook, sftEvalHook, type GreedyCurve } from './train/evalHooks.js';
export type { Pair } from './train/pairs.js';
