import { checkpointFiles } from '@ganpo/models';
import { zipSync, strToU8 } from 'fflate';
import type { WebRun } from './session.js';

/**
 * The run as one zip: `metrics.jsonl` (one line per step, the CLI's metric names), `web-run.json` (the
 * settings) and `policy/` in the checkpoint layout `ganpo train` writes (model.safetensors, config.json,
 * tokenizer.json), so that `ganpo sample --model DIR/policy` loads it. Stored without compression: the
 * weights are float32 noise to a compressor, and the zip is read by any unzip.
 */
export function runZip(run: WebRun, backend: string): Uint8Array {
  // A dropped file's bytes are not part of the record, only its name.
  const data = run.config.data.kind === 'file' ? { kind: 'file', name: run.config.data.name } : run.config.data;
  const files: Record<string, Uint8Array> = {
    'ganpo-web-run/metrics.jsonl': strToU8(run.metrics.map((m) => JSON.stringify(m)).join('\n') + '\n'),
    'ganpo-web-run/web-run.json': strToU8(`${JSON.stringify({ format: 'ganpo-web-run/1', backend, config: { ...run.config, data }, data: run.data.description }, null, 2)}\n`),
  };
  for (const f of checkpointFiles({ model: run.policy, tokenizer: run.tokenizer as never })) {
    files[`ganpo-web-run/policy/${f.name}`] = typeof f.data === 'string' ? strToU8(f.data) : f.data;
  }
  return zipSync(files, { level: 0 });
}
