import { cpus, freemem, totalmem, platform, release, arch } from 'node:os';
import { autoBackendName, backendInfo, registeredBackends } from '@ganpo/kernels';
import { selectBackend } from '../train/backend.js';
import type { CliIo } from '../util/io.js';
import { VERSION } from '../version.js';

// ---------------------------------------------------------------------------------------------------------
// ganpo info

export function infoCommand(flags: { backend?: string; json?: boolean }, io: CliIo): number {
  const auto = autoBackendName(io.env);
  const chosen = selectBackend(flags.backend ?? 'auto');
  const cpu = cpus();
  const info = {
    version: VERSION,
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    cpu: { model: cpu[0]?.model ?? 'unknown', cores: cpu.length },
    memory: { totalGiB: +(totalmem() / 2 ** 30).toFixed(1), freeGiB: +(freemem() / 2 ** 30).toFixed(1) },
    backends: registeredBackends(),
    autoBackend: auto,
    backend: chosen,
    gpujsMode: io.env.GANPO_GPUJS_MODE || 'gpu (gpu.js picks)',
    env: Object.fromEntries(['GANPO_BACKEND', 'GANPO_GPUJS_MODE', 'GANPO_DEBUG', 'GANPO_PROGRESS'].filter((k) => io.env[k]).map((k) => [k, io.env[k]])),
  };
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `ganpo ${info.version} (node ${info.node}, ${info.platform})`,
    `machine:  ${info.cpu.cores} × ${info.cpu.model}, ${info.memory.totalGiB} GiB memory (${info.memory.freeGiB} GiB free)`,
    `backends: ${info.backends.join(', ')}; automatic choice: ${info.autoBackend}`,
    `in use:   ${info.backend.name}: ${info.backend.detail}`,
    `gpu.js:   mode ${info.gpujsMode} (used by --backend gpujs; GANPO_GPUJS_MODE=gpu|headlessgl|webasm|cpu selects it)`,
  ];
  if (Object.keys(info.env).length > 0) lines.push(`env:      ${Object.entries(info.env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export { backendInfo };
