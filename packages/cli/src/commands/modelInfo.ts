import { totalmem } from 'node:os';
import { countParameters, defaultLoraTargets, estimateTrainingMemory, parseModelConfig, readModelDirConfig, type ResolvedModelConfig } from '@ganpo/models';
import { ConfigError } from '../errors.js';
import type { ModelInfoFlags } from '../config/commandFlags.js';
import type { CliIo } from '../util/io.js';

// ganpo info --model DIR: architecture, parameter count and the memory a preference step will need,
// from config.json alone (nothing is allocated); exits 2 when it will not fit in this machine's memory.

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

export function modelInfoCommand(flags: ModelInfoFlags, io: CliIo, machineBytes = totalmem()): number {
  let config: ResolvedModelConfig;
  try {
    config = readModelDirConfig(flags.model);
  } catch (e) {
    throw new ConfigError(`--model ${flags.model}: ${(e as Error).message}`);
  }
  const pairs = flags.batchSize ?? 8;
  const seqLen = Math.min(flags.maxLength ?? 512, config.contextLength);
  const r = flags.loraR ?? 0;
  if (r > 0 && !config.lora) {
    const targets = flags.loraTargets ? flags.loraTargets.split(',').map((s) => s.trim()) : defaultLoraTargets(config.architecture);
    config = parseModelConfig({ ...config, lora: { r, alpha: r, dropout: 0, targets } }, '--lora-r');
  }
  const params = countParameters(config);
  const mem = estimateTrainingMemory(config, { pairs, seqLen });
  const fits = mem.total <= machineBytes;
  const architecture = config.architecture === 'gpt2' ? 'gpt2' : config.hfModelType;
  const info = {
    model: flags.model,
    architecture,
    shape: { vocab: config.vocabSize, context: config.contextLength, hidden: config.dModel, layers: config.nLayers, heads: config.nHeads, kvHeads: config.nKvHeads, mlp: config.dMlp },
    parameters: params.total,
    trainable: mem.trainable,
    lora: config.lora,
    step: { pairs, seqLen },
    memoryBytes: { policy: mem.policy, reference: mem.reference, gradients: mem.gradients, optimizer: mem.optimizer, activations: mem.activations, total: mem.total },
    machineBytes,
    fits,
  };
  if (flags.json) io.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  else {
    const s = info.shape;
    io.stdout.write(
      [
        `${flags.model}: ${architecture}, ${(params.total / 1e6).toFixed(1)}M parameters (vocab ${s.vocab}, context ${s.context}, hidden ${s.hidden}, ${s.layers} layers, ${s.heads} heads${config.architecture === 'llama' ? `, ${s.kvHeads} kv heads` : ''}, mlp ${s.mlp})`,
        `training step (${pairs} pairs × ${seqLen} tokens, float32${config.lora ? `, LoRA r=${config.lora.r} on ${config.lora.targets.join(',')}: ${mem.trainable.toLocaleString('en-US')} trainable` : ', full fine-tuning'}), estimated:`,
        `  policy weights      ${gib(mem.policy)}`,
        `  reference           ${gib(mem.reference)}${config.lora ? ' (the policy with adapters off: no copy)' : ' (a frozen copy)'}`,
        `  gradients           ${gib(mem.gradients)}`,
        `  optimizer (AdamW)   ${gib(mem.optimizer)}`,
        `  activations         ${gib(mem.activations)}`,
        `  total               ${gib(mem.total)} of ${gib(machineBytes)} on this machine`,
      ].join('\n') + '\n',
    );
  }
  if (!fits) {
    throw new ConfigError(
      `--model ${flags.model}: a training step needs about ${gib(mem.total)}, more than this machine's ${gib(machineBytes)}`,
      [],
      'lower --batch-size or --max-length, or train LoRA adapters (--lora-r 16)',
    );
  }
  return 0;
}
