// Standalone gpujs headless-gl check, bundled by .gpucheck/build.sh (esbuild) so it runs with a bare node binary.
//
//   node runner.mjs probe   one GL context: prints GPUCHECK_PROBE {json} (vendor/renderer/version, realGpu)
//   node runner.mjs full    GL strings, the gpujs parity suite in headlessgl mode (parity-suite.ts itself, through
//                           a vitest shim, fast-check seed 20261128 as in scripts/vitest.setup.ts), then a
//                           benchmark of gpujs-headlessgl against the reference cpu backend
//
// Environment: GPUCHECK_RESULT (JSON written there), GPUCHECK_BENCH_SCALE (time budget multiplier, default 1),
// FC_SEED, GANPO_GPUJS_RUNS, GANPO_REQUIRE_HEADLESSGL (read by the suite).
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import fc from 'fast-check';
import { cpuBackend } from '../../packages/kernels/src/cpu.js';
import type { Backend, MatmulSpec } from '../../packages/kernels/src/types.js';
import { gpujsAvailability } from '../../packages/kernels/src/gpujs/availability.js';
import { createGpujsBackend } from '../../packages/kernels/src/gpujs/backend.js';
import { paritySuite } from '../../packages/kernels/src/gpujs/parity-suite.js';
import { SOFTWARE_RENDERER, createHeadlessContext } from '../../packages/kernels/src/gpujs/runtime.js';
import { runTests, type TestResult } from './vitest-shim.js';

const GL_VENDOR = 0x1f00;
const GL_RENDERER = 0x1f01;
const GL_VERSION = 0x1f02;
const GL_SHADING_LANGUAGE_VERSION = 0x8b8c;

/** glGetString through the native context under gl's JavaScript wrapper (the wrapper answers 'ANGLE'). */
function nativeString(gl: unknown, pname: number): string | null {
  let best: string | null = null;
  let proto = Object.getPrototypeOf(gl) as object | null;
  while (proto && proto !== Object.prototype) {
    const desc = Object.getOwnPropertyDescriptor(proto, 'getParameter');
    if (desc && typeof desc.value === 'function') {
      try {
        const v = (desc.value as (p: number) => unknown).call(gl, pname);
        if (typeof v === 'string' && v.length > 0) best = v;
      } catch {}
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return best;
}

/** The GL-related shared objects this process has mapped (which GLX vendor library really got loaded). */
function loadedGlLibs(): string[] {
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const libs = new Set<string>();
    for (const line of maps.split('\n')) {
      const m = /\s(\/\S+)$/.exec(line);
      if (m && /GLX|EGL|libGL|dri|nvidia|LLVM|libX11\.|webgl\.node/.test(m[1])) libs.add(m[1]);
    }
    return [...libs];
  } catch {
    return [];
  }
}

interface GlInfo {
  ok: boolean;
  loaded?: string[];
  error: string | null;
  vendor: string | null;
  renderer: string | null;
  version: string | null;
  glsl: string | null;
  maxTextureSize: number | null;
  realGpu: boolean;
}

function glInfo(): GlInfo {
  const t0 = performance.now();
  const ctx = createHeadlessContext();
  if (!ctx.gl) return { ok: false, error: ctx.error, vendor: null, renderer: null, version: null, glsl: null, maxTextureSize: null, realGpu: false };
  const gl = ctx.gl as { MAX_TEXTURE_SIZE: number; getParameter(p: number): unknown; getExtension(n: string): { destroy?: () => void } | null };
  const info: GlInfo = {
    ok: true,
    error: null,
    vendor: nativeString(gl, GL_VENDOR),
    renderer: nativeString(gl, GL_RENDERER),
    version: nativeString(gl, GL_VERSION),
    glsl: nativeString(gl, GL_SHADING_LANGUAGE_VERSION),
    maxTextureSize: Number(gl.getParameter(gl.MAX_TEXTURE_SIZE)),
    realGpu: false,
  };
  info.realGpu = info.renderer !== null && !SOFTWARE_RENDERER.test(info.renderer);
  info.loaded = loadedGlLibs();
  gl.getExtension('STACKGL_destroy_context')?.destroy?.();
  console.log(`context created in ${(performance.now() - t0).toFixed(0)} ms`);
  return info;
}

function printGl(info: GlInfo): void {
  console.log(`GL_VENDOR   : ${info.vendor}`);
  console.log(`GL_RENDERER : ${info.renderer}`);
  console.log(`GL_VERSION  : ${info.version}`);
  console.log(`GLSL        : ${info.glsl}   MAX_TEXTURE_SIZE: ${info.maxTextureSize}`);
  console.log(`GL libraries loaded: ${(info.loaded ?? []).join(' ')}`);
  console.log(
    info.realGpu
      ? '=> hardware renderer (not llvmpipe/softpipe/SwiftShader): this IS a GPU run'
      : '=> SOFTWARE renderer: this is NOT a GPU run (kernels computed on the CPU)',
  );
}

// --------------------------------------------------------------------------------------------- bench
function data(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

const SCALE = Number(process.env.GPUCHECK_BENCH_SCALE ?? 1);

/** First call (compile + upload + run + readback), then the best of the timed calls within a budget. */
function timeIt(fn: () => unknown, budgetMs: number, minCalls: number, maxCalls: number): { firstMs: number; bestMs: number; calls: number; out: unknown } {
  let t0 = performance.now();
  const out = fn();
  const firstMs = performance.now() - t0;
  let best = Infinity;
  let calls = 0;
  const end = performance.now() + budgetMs * SCALE;
  while (calls < minCalls || (performance.now() < end && calls < maxCalls)) {
    t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
    calls++;
  }
  return { firstMs, bestMs: best, calls, out };
}

/** max |got − want| / max |want| (0 when equal). */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let e = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(want[i]) || !Number.isFinite(got[i])) continue;
    e = Math.max(e, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return m === 0 ? e : e / m;
}

interface BenchCase {
  label: string;
  flops?: number;
  cpu: boolean;
  run: (b: Backend) => ArrayLike<number>;
}

function benchCases(big: boolean): BenchCase[] {
  const cases: BenchCase[] = [];
  const mm = (m: number, k: number, n: number, cpu: boolean, transB = false): void => {
    const spec: MatmulSpec = { batch: 1, m, k, n, transA: false, transB, aBatchStride: m * k, bBatchStride: k * n };
    const a = data(m * k, m * 7 + k);
    const b = data(k * n, n * 13 + k);
    cases.push({ label: `matmul ${m}x${k}x${n} ${transB ? 'NT' : 'NN'}`, flops: 2 * m * k * n, cpu, run: (be) => be.matmul(a, b, spec) as ArrayLike<number> });
  };
  mm(512, 512, 512, true);
  mm(512, 512, 512, true, true);
  // gpujs-only sizes: minutes on llvmpipe, so only on a hardware renderer (or GPUCHECK_BIG=1)
  if (big) {
    mm(1024, 1024, 1024, false);
    mm(2048, 2048, 2048, false);
  }
  {
    const x = data(2048 * 260, 2308, 4);
    cases.push({ label: 'softmax [2048,260]', cpu: true, run: (be) => be.softmax(x, 2048, 260) as ArrayLike<number> });
    const targets = Int32Array.from({ length: 2048 }, (_, i) => (i * 37) % 260);
    cases.push({ label: 'crossEntropy [2048,260]', cpu: true, run: (be) => be.crossEntropy(x, 2048, 260, targets) as ArrayLike<number> });
  }
  {
    const x = data(2048 * 512, 2560, 4);
    const gamma = data(512, 5);
    const beta = data(512, 6);
    cases.push({ label: 'layerNorm [2048,512] (y)', cpu: true, run: (be) => be.layerNorm(x, 2048, 512, gamma, beta, 1e-5).y as ArrayLike<number> });
    cases.push({ label: 'geluTanh [2048,512]', cpu: true, run: (be) => be.unary('geluTanh', x) as ArrayLike<number> });
    cases.push({ label: 'geluErf [2048,512]', cpu: true, run: (be) => be.unary('geluErf', x) as ArrayLike<number> });
    const bias = data(512, 9);
    cases.push({ label: 'add [2048,512]+[512] (bcast)', cpu: true, run: (be) => be.binary('add', x, [2048, 512], bias, [512], [2048, 512]) as ArrayLike<number> });
  }
  return cases;
}

interface BenchRow {
  label: string;
  cpuMs: number | null;
  gpuFirstMs: number | null;
  gpuMs: number | null;
  gpuCalls: number;
  speedup: number | null;
  cpuGflops: number | null;
  gpuGflops: number | null;
  relErr: number | null;
  error?: string;
}

function bench(big: boolean): BenchRow[] {
  const gpu = createGpujsBackend({ mode: 'headlessgl' });
  console.log(`bench backend: ${gpu.describe()}`);
  const rows: BenchRow[] = [];
  for (const c of benchCases(big)) {
    const row: BenchRow = { label: c.label, cpuMs: null, gpuFirstMs: null, gpuMs: null, gpuCalls: 0, speedup: null, cpuGflops: null, gpuGflops: null, relErr: null };
    let want: ArrayLike<number> | null = null;
    try {
      if (c.cpu) {
        const r = timeIt(() => c.run(cpuBackend), 1000, 2, 10);
        row.cpuMs = r.bestMs;
        want = r.out as ArrayLike<number>;
      }
      const g = timeIt(() => c.run(gpu), 1000, 3, 100);
      row.gpuFirstMs = g.firstMs;
      row.gpuMs = g.bestMs;
      row.gpuCalls = g.calls;
      if (want) row.relErr = relErr(g.out as ArrayLike<number>, want);
      if (row.cpuMs !== null) row.speedup = row.cpuMs / row.gpuMs;
      if (c.flops) {
        if (row.cpuMs !== null) row.cpuGflops = c.flops / row.cpuMs / 1e6;
        row.gpuGflops = c.flops / row.gpuMs / 1e6;
      }
    } catch (e) {
      row.error = e instanceof Error ? e.message.slice(0, 500) : String(e);
    }
    rows.push(row);
    process.stdout.write(`  bench ${c.label}: ${row.error ? 'ERROR ' + row.error : `gpu ${row.gpuMs?.toFixed(2)} ms`}\n`);
  }
  const s = gpu.stats();
  console.log(`gpujs stats: compiles ${s.compiles}, cacheHits ${s.cacheHits}, readbacks ${s.readbacks}, degraded ${JSON.stringify(s.degraded)}, hostFallbacks ${s.hostFallbacks}`);
  gpu.dispose();
  return rows;
}

function table(rows: BenchRow[]): string {
  const f = (v: number | null, d = 2): string => (v === null ? '-' : v.toFixed(d));
  const header = ['kernel', 'cpu ref ms', 'gpujs-hgl ms', 'gpujs 1st ms', 'cpu/gpujs', 'cpu GFLOP/s', 'gpujs GFLOP/s', 'rel err'];
  const lines = rows.map((r) => [
    r.label,
    f(r.cpuMs),
    r.error ? 'ERROR' : f(r.gpuMs, 3),
    f(r.gpuFirstMs, 1),
    r.speedup === null ? '-' : r.speedup.toFixed(2) + 'x',
    f(r.cpuGflops),
    f(r.gpuGflops),
    r.relErr === null ? '-' : r.relErr.toExponential(1),
  ]);
  const w = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ') + ' |';
  return [fmt(header), '|' + w.map((n, i) => (i === 0 ? '-'.repeat(n + 2) : '-'.repeat(n + 1) + ':')).join('|') + '|', ...lines.map(fmt)].join('\n');
}

// ---------------------------------------------------------------------------------------------- main
const cmd = process.argv[2] ?? 'full';
const machine = { cpu: os.cpus()[0]?.model ?? '?', cores: os.availableParallelism(), node: process.version, platform: `${os.platform()} ${os.arch()}`, host: os.hostname() };

if (cmd === 'probe') {
  let info: GlInfo;
  try {
    info = glInfo();
  } catch (e) {
    info = { ok: false, error: e instanceof Error ? e.message : String(e), vendor: null, renderer: null, version: null, glsl: null, maxTextureSize: null, realGpu: false };
  }
  let kernelOk: boolean | null = null;
  let kernelReason: string | null = null;
  if (info.ok) {
    const a = gpujsAvailability();
    kernelOk = a.modes.headlessgl.ok;
    kernelReason = a.modes.headlessgl.reason;
  }
  console.log('GPUCHECK_PROBE ' + JSON.stringify({ ...info, kernelOk, kernelReason }));
  process.exit(info.ok && kernelOk ? 0 : 1);
} else if (cmd === 'full') {
  const started = performance.now();
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`);
  const info = glInfo();
  printGl(info);
  if (!info.ok) {
    console.log(`no GL context: ${info.error}`);
    process.exit(2);
  }
  const avail = gpujsAvailability();
  console.log(`gpujsAvailability: headlessgl ${JSON.stringify(avail.modes.headlessgl)}, auto ${avail.auto}, realGpu ${avail.realGpu}, renderer ${avail.renderer}`);

  // The parity suite, exactly as vitest runs it (seeded like scripts/vitest.setup.ts).
  const seed = Number(process.env.FC_SEED ?? 20261128);
  fc.configureGlobal({ seed, numRuns: Number(process.env.FC_NUM_RUNS ?? 50) });
  console.log(`\n== parity suite (headlessgl), fast-check seed ${seed}, GANPO_GPUJS_RUNS=${process.env.GANPO_GPUJS_RUNS ?? '12 (default)'} ==`);
  const tParity = performance.now();
  paritySuite('headlessgl');
  const results: TestResult[] = runTests((r) => {
    const tag = r.status === 'pass' ? 'PASS' : r.status === 'skip' ? 'SKIP' : 'FAIL';
    console.log(`  ${tag} ${r.name} (${r.ms.toFixed(0)} ms)${r.error ? '\n       ' + r.error.split('\n').join('\n       ') : ''}`);
  });
  const passed = results.filter((r) => r.status === 'pass').length;
  const failed = results.filter((r) => r.status === 'fail');
  const skipped = results.filter((r) => r.status === 'skip').length;
  const parityS = (performance.now() - tParity) / 1000;
  console.log(`parity: ${passed} passed, ${failed.length} failed, ${skipped} skipped, ${parityS.toFixed(1)} s`);
  for (const f of failed) console.log(`  failed: ${f.name}`);

  console.log('\n== bench: gpujs-headlessgl vs reference cpu (best of timed calls; "1st" includes compile+upload) ==');
  let rows: BenchRow[] = [];
  try {
    rows = bench(info.realGpu || process.env.GPUCHECK_BIG === '1');
  } catch (e) {
    console.log(`bench failed: ${e instanceof Error ? e.stack : e}`);
  }
  console.log('');
  console.log(`renderer: ${info.renderer}  [${info.realGpu ? 'GPU' : 'SOFTWARE'}]`);
  console.log(table(rows));
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const out = process.env.GPUCHECK_RESULT;
  if (out) {
    writeFileSync(out, JSON.stringify({ machine, gl: info, availability: avail, parity: { seed, passed, failed: failed.length, skipped, seconds: parityS, results }, bench: rows }, null, 2));
  }
  console.log(`GPUCHECK_SUMMARY ${JSON.stringify({ renderer: info.renderer, realGpu: info.realGpu, parityPassed: passed, parityFailed: failed.length, paritySkipped: skipped })}`);
  process.exit(failed.length === 0 && skipped === 0 ? 0 : 1);
} else {
  console.error(`usage: runner.mjs probe|full`);
  process.exit(64);
}
