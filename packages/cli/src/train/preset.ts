import type { Tokenizer } from '@ganpo/datasets';
import { CausalLM, MODEL_PRESETS, presetConfig, type PresetName } from '@ganpo/models';
import type { RunConfig } from '../config/runConfig.js';

// A size preset's fresh policy, apart from model.ts's directory loaders: no file system here, so the web page
// (apps/web) starts from the very weights `ganpo train --model <preset>` starts from.

export const isPreset = (s: string): s is PresetName => Object.prototype.hasOwnProperty.call(MODEL_PRESETS, s);

/** Fresh weights from the run seed, vocabulary and context sized to the tokenizer and --max-length (no LoRA). */
export function presetPolicy(spec: PresetName, config: RunConfig, tokenizer: Tokenizer): { model: CausalLM; description: string } {
  const dropout = config.model.dropout;
  const base = MODEL_PRESETS[spec];
  const modelConfig = presetConfig(spec, {
    vocabSize: tokenizer.vocabSize,
    contextLength: Math.max(base.contextLength, config.data.maxLength),
    ...(dropout === null ? {} : { dropout }),
  });
  const model = new CausalLM(modelConfig, { seed: config.seed });
  return { model, description: `${spec} preset (d=${modelConfig.dModel}, ${modelConfig.nLayers} layers, ${modelConfig.nHeads} heads)` };
}
