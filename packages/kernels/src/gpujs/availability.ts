import { GPU } from 'gpu.js';
import { SOFTWARE_RENDERER, createHeadlessContext, glRendererString, resolveMode, type GpujsActualMode } from './runtime.js';

export interface GpujsModeProbe {
  /** A trivial kernel compiled and returned the right numbers in this mode, without gpu.js falling back to cpu. */
  ok: boolean;
  /** Why not, when not. */
  reason: string | null;
}

export interface GpujsAvailability {
  modes: { cpu: GpujsModeProbe; webasm: GpujsModeProbe; headlessgl: GpujsModeProbe; webgpu: GpujsModeProbe };
  /** What mode 'gpu' (gpu.js's automatic choice) resolves to on this machine. */
  auto: GpujsActualMode;
  /** The headless-gl renderer, e.g. "ANGLE (Mesa/X.org llvmpipe (LLVM 15.0.6, 256 bits) OpenGL 4.5 core)". */
  renderer: string | null;
  /** headless-gl works and its renderer is a real GPU (not llvmpipe, softpipe, SwiftShader or another software rasteriser). */
  realGpu: boolean;
}

const WEBGPU_REASON =
  'not supported by ganpo: gpu.js webgpu kernels are async-only while the engine is synchronous (and Dawn needs a newer glibc here)';

function probe(mode: 'cpu' | 'webasm' | 'headlessgl'): { result: GpujsModeProbe; renderer: string | null } {
  let gl: unknown = null;
  let renderer: string | null = null;
  try {
    if (mode === 'headlessgl') {
      const ctx = createHeadlessContext();
      if (!ctx.gl) return { result: { ok: false, reason: ctx.error }, renderer: null };
      gl = ctx.gl;
      renderer = glRendererString(gl);
    }
    const gpu = new GPU({ mode });
    if (gl) (gpu as unknown as { context: unknown }).context = gl;
    const k = gpu.createKernel('function(a) {\nreturn a[this.thread.x] * 2.0 + 1.0;\n}', {
      output: [3],
      precision: 'single',
      tactic: 'precision',
    } as never) as unknown as ((a: Float32Array) => ArrayLike<number>) & { kernel: { constructor: { name: string } } };
    const out = Array.from(k(new Float32Array([1, 2, 3.5])));
    const ran = k.kernel.constructor.name;
    const expected = { cpu: 'CPUKernel', webasm: 'WebAssemblyKernel', headlessgl: 'HeadlessGLKernel' }[mode];
    (k as unknown as { destroy(): void }).destroy();
    if (ran !== expected) return { result: { ok: false, reason: `gpu.js ran the kernel on ${ran}` }, renderer };
    if (out[0] !== 3 || out[1] !== 5 || out[2] !== 8) {
      return { result: { ok: false, reason: `wrong result ${JSON.stringify(out)}` }, renderer };
    }
    return { result: { ok: true, reason: null }, renderer };
  } catch (e) {
    return { result: { ok: false, reason: e instanceof Error ? e.message : String(e) }, renderer };
  } finally {
    if (gl) {
      const ext = (gl as { getExtension(n: string): { destroy?: () => void } | null }).getExtension('STACKGL_destroy_context');
      ext?.destroy?.();
    }
  }
}

let cached: GpujsAvailability | null = null;
let cachedHeadless: { result: GpujsModeProbe; renderer: string | null } | null = null;

function headlessProbe(refresh: boolean): { result: GpujsModeProbe; renderer: string | null } {
  if (!cachedHeadless || refresh) cachedHeadless = probe('headlessgl');
  return cachedHeadless;
}

/**
 * True when headless-gl runs kernels on a hardware renderer (not llvmpipe, softpipe, SwiftShader, ...).
 * Only the headlessgl probe runs (one GL context, created and destroyed); the answer is cached.
 */
export function gpujsHasRealGpu(): boolean {
  const { result, renderer } = headlessProbe(false);
  return result.ok && renderer !== null && !SOFTWARE_RENDERER.test(renderer);
}

/**
 * Which gpu.js modes work on this machine (each is tried with a trivial kernel, errors caught), and whether
 * a real GPU is reachable through headless-gl. Cached after the first call; `{ refresh: true }` probes again.
 */
export function gpujsAvailability(options: { refresh?: boolean } = {}): GpujsAvailability {
  if (cached && !options.refresh) return cached;
  const cpu = probe('cpu');
  const webasm = probe('webasm');
  const headlessgl = headlessProbe(options.refresh === true);
  const renderer = headlessgl.renderer;
  cached = {
    modes: {
      cpu: cpu.result,
      webasm: webasm.result,
      headlessgl: headlessgl.result,
      webgpu: { ok: false, reason: WEBGPU_REASON },
    },
    auto: resolveMode('gpu'),
    renderer,
    realGpu: headlessgl.result.ok && renderer !== null && !SOFTWARE_RENDERER.test(renderer),
  };
  return cached;
}
