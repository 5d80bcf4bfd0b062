import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KERNELS_WASM_BASE64, KERNELS_WAT_SHA256, WASM_OPCODES } from './kernels.wasm.generated.js';

const pkg = fileURLToPath(new URL('../..', import.meta.url));
const watPath = join(pkg, 'wasm', 'kernels.wat');
const generatedPath = join(pkg, 'src', 'fast', 'kernels.wasm.generated.ts');

describe('the committed WebAssembly module', () => {
  it('was generated from the committed kernels.wat (source hash)', () => {
    const opcodes = JSON.parse(readFileSync(join(pkg, 'wasm', 'opcodes.json'), 'utf8'));
    const sha = createHash('sha256').update(readFileSync(watPath, 'utf8')).update(JSON.stringify({ unary: opcodes.unary, binary: opcodes.binary })).digest('hex');
    expect(sha, 'kernels.wat or opcodes.json changed: run `node packages/kernels/scripts/build-wasm.mjs`').toBe(KERNELS_WAT_SHA256);
  });

  it('is byte for byte what scripts/build-wasm.mjs assembles from it with wabt', async () => {
    const { assemble } = (await import(join(pkg, 'scripts', 'build-wasm.mjs'))) as {
      assemble: (wat: string) => Promise<{ ts: string; bytes: Uint8Array }>;
    };
    const { ts, bytes } = await assemble(readFileSync(watPath, 'utf8'));
    expect(ts).toBe(readFileSync(generatedPath, 'utf8'));
    expect(Buffer.from(bytes).toString('base64')).toBe(KERNELS_WASM_BASE64);
  });

  it('takes its op codes from wasm/opcodes.json, as the TypeScript does', () => {
    const opcodes = JSON.parse(readFileSync(join(pkg, 'wasm', 'opcodes.json'), 'utf8'));
    expect(WASM_OPCODES).toEqual({ unary: opcodes.unary, binary: opcodes.binary });
    expect(readFileSync(watPath, 'utf8')).not.toMatch(/br_table \$add \$sub/); // dispatch tables come from the definition
  });

  it('validates in this engine (SIMD128, shared memory, bulk memory)', () => {
    const wa = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(wa.validate(new Uint8Array(Buffer.from(KERNELS_WASM_BASE64, 'base64')))).toBe(true);
  });
});

describe('the worker pool in a bundled program', () => {
  // Bundles src/fast into one file (as tsup does for dist) and runs it in a fresh node process: the
  // eval'd workers need no file path, do real work, and never keep the process alive.
  it('runs a threaded matmul from a bundle and lets the process exit without shutdown', async () => {
    const esbuild = (await import('esbuild')) as typeof import('esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'ganpo-fast-'));
    try {
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        `import { fastBackend, startFastPool, setFastMatmulParallelThreshold as setParallelThreshold } from ${JSON.stringify(join(pkg, 'src', 'fast', 'index.ts'))};
         import { cpuBackend } from ${JSON.stringify(join(pkg, 'src', 'cpu.ts'))};
         setParallelThreshold(0);
         const threads = await startFastPool();
         const spec = { batch: 1, m: 64, k: 48, n: 40, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 };
         const a = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i));
         const b = Float32Array.from({ length: 40 * 48 }, (_, i) => Math.cos(i));
         const got = fastBackend.matmul(a, b, spec);
         const want = cpuBackend.matmul(Float64Array.from(a), Float64Array.from(b), spec);
         let err = 0;
         for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
         console.log(JSON.stringify({ threads, err }));
         // no shutdown: unref()'d workers must not keep the process alive`,
      );
      const out = join(dir, 'bundle.mjs');
      esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'silent' });
      const start = Date.now();
      const stdout = execFileSync(process.execPath, [out], { encoding: 'utf8', timeout: 20_000 });
      const { threads, err } = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { threads: number; err: number };
      expect(err).toBeLessThan(1e-4);
      expect(threads).toBeGreaterThanOrEqual(1);
      expect(Date.now() - start).toBeLessThan(15_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
