import { CheckpointError, exportHuggingFace, type ExportDType, savePeftAdapter } from '@ganpo/models';
import type { ExportFlags } from '../config/commandFlags.js';
import { ConfigError } from '../errors.js';
import { loadModelDir } from '../train/model.js';
import { lockRunDir } from '../train/runDir.js';
import type { CliIo } from '../util/io.js';
import { runPolicyDir } from './evalSample.js';

// ganpo export --run DIR --out HF_DIR: the run's final policy (else its latest checkpoint) as a Hugging Face
// directory (LoRA adapters merged in), and with --adapter-out the adapters alone in PEFT's layout.

export function exportCommand(flags: ExportFlags, io: CliIo): number {
  if (!flags.run === !flags.model) throw new ConfigError('ganpo export: give exactly one of --run DIR or --model DIR');
  const dtype: ExportDType = flags.dtype ?? 'f32';
  // A run is exported only while no other process writes it (its policy or latest checkpoint could be half-written).
  const lock = flags.run ? lockRunDir(flags.run, flags.run, 'ganpo export') : null;
  try {
    return exportModel(flags, io, dtype);
  } finally {
    lock?.release();
  }
}

function exportModel(flags: ExportFlags, io: CliIo, dtype: ExportDType): number {
  const dir = flags.run ? runPolicyDir(flags.run) : flags.model!;
  const { model, tokenizer } = loadModelDir(dir, flags.run ? 'policy' : '--model');
  try {
    const result = exportHuggingFace(model, flags.out, { dtype, tokenizer, overwrite: flags.overwrite === true });
    if (flags.adapterOut) {
      if (!model.config.lora) throw new ConfigError(`--adapter-out: ${dir} was not trained with LoRA (no adapters to save)`);
      savePeftAdapter(model, flags.adapterOut);
    }
    const summary = {
      from: dir,
      out: flags.out,
      modelType: model.config.architecture === 'gpt2' ? 'gpt2' : model.config.hfModelType,
      dtype,
      loraMerged: model.config.lora !== null,
      files: result.files,
      ...(flags.adapterOut ? { adapterOut: flags.adapterOut } : {}),
      ...(result.tokenizerNote ? { note: result.tokenizerNote } : {}),
    };
    if (flags.json) io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      const lines = [`exported ${dir} to ${flags.out} (${summary.modelType}, ${dtype}${summary.loraMerged ? ', LoRA merged' : ''}): ${result.files.join(', ')}`];
      if (flags.adapterOut) lines.push(`PEFT adapter: ${flags.adapterOut} (adapter_config.json, adapter_model.safetensors)`);
      if (result.tokenizerNote) lines.push(`note: ${result.tokenizerNote}`);
      io.stdout.write(`${lines.join('\n')}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof CheckpointError) throw new ConfigError(`ganpo export: ${e.message}`);
    throw e;
  }
}
