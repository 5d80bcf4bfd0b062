import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Spawning the built `ganpo` binary (packages/cli/dist/bin.js) the way a user runs it. The end-to-end
 * suites need `npm run build` first (CI builds before testing); `GANPO_CLI_BIN` points them at another
 * build of the binary.
 */

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = process.env.GANPO_CLI_BIN ? resolve(process.env.GANPO_CLI_BIN) : join(ROOT, 'packages/cli/dist/bin.js');

const PACKAGES = ['kernels', 'autograd', 'objectives', 'adversarial', 'datasets', 'models', 'cli'];

/** Why the binary cannot run (a missing build), or null when it can. */
export function missingBuild(): string | null {
  if (!existsSync(BIN)) return `${BIN} is missing: run \`npm run build\` first (the end-to-end suites spawn the built binary; CI builds before testing)`;
  if (process.env.GANPO_CLI_BIN) return null;
  const missing = PACKAGES.filter((p) => !existsSync(join(ROOT, 'packages', p, 'dist', 'index.js')));
  return missing.length > 0 ? `packages ${missing.join(', ')} are not built (no dist/index.js): run \`npm run build\` first` : null;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
  /** Called with the child once it is running (e.g. to send it a signal). */
  readonly onSpawn?: (child: ChildProcess) => void;
}

export function ganpo(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', GANPO_PROGRESS: 'lines', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ganpo ${args.join(' ')} timed out after ${options.timeoutMs ?? 120_000} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    options.onSpawn?.(child);
  });
}

export const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `ganpo-e2e-${name}-`));

export interface MetricLine {
  stage: string;
  step: number;
  [k: string]: unknown;
}

export const readMetricLines = (runDir: string): MetricLine[] =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as MetricLine);

/** The metrics that must reproduce exactly on resume: everything but timings. */
export function deterministicPart(line: MetricLine): Record<string, unknown> {
  const { tokens_per_s: _t, elapsed_s: _e, ...rest } = line;
  return rest;
}

/** The flags of a small, fast run used across the suites. */
export const TINY = ['--model', 'tiny', '--sft-steps', '4', '--steps', '6', '--sft-batch-size', '8', '--batch-size', '4', '--eval-interval', '3', '--eval-prompts', '4', '--temperatures', '0', '--save-interval', '2', '--warmup', '1'];
