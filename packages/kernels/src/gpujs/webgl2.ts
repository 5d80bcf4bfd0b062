import { GPU, WebGL2Kernel } from 'gpu.js';

/*
 * gpu.js on WebGL2, in a browser (a page or a Web Worker with OffscreenCanvas). A WebGL2 context computes
 * in float32 only where the GPU renders to float textures (EXT_color_buffer_float) and its shaders keep
 * highp floats; some mobile GPUs do neither and would silently compute in half precision. So before the
 * backend is used, `webgl2Check()` runs a probe kernel whose right answer needs a 24-bit significand and
 * says why not when it fails; the caller then falls back to WebAssembly.
 */

export interface Webgl2Context {
  readonly canvas: unknown;
  readonly gl: unknown;
  /** UNMASKED_RENDERER_WEBGL where the browser exposes it (e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...))"). */
  readonly renderer: string | null;
}

interface GlLike {
  getExtension(name: string): { UNMASKED_RENDERER_WEBGL?: number } | null;
  getParameter(p: number): unknown;
  RENDERER: number;
}

/** A WebGL2 context on a new canvas (OffscreenCanvas in a worker), or why there is none. */
export function createWebgl2Context(): { context: Webgl2Context | null; error: string | null } {
  const g = globalThis as { OffscreenCanvas?: new (w: number, h: number) => { getContext(k: string, o: object): unknown }; document?: { createElement(t: string): { getContext(k: string, o: object): unknown } } };
  const canvas = g.document ? g.document.createElement('canvas') : g.OffscreenCanvas ? new g.OffscreenCanvas(1, 1) : null;
  if (!canvas) return { context: null, error: 'no canvas here (neither a document nor OffscreenCanvas)' };
  const gl = canvas.getContext('webgl2', { premultipliedAlpha: false, preserveDrawingBuffer: false, antialias: false, depth: false, stencil: false }) as GlLike | null;
  if (!gl) return { context: null, error: 'the browser gave no WebGL2 context (WebGL disabled, or no GPU and no software renderer)' };
  if (!gl.getExtension('EXT_color_buffer_float')) return { context: null, error: 'this GPU cannot render to float32 textures (no EXT_color_buffer_float)' };
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = info?.UNMASKED_RENDERER_WEBGL !== undefined ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER));
  return { context: { canvas, gl, renderer }, error: null };
}

/**
 * The start-up precision check: 2^24 − 1, (1 + 2^−23) − 1 and a dot product of 64 terms must come back as
 * float32 computes them (exactly for the first two, within 2^−20 relative for the sum). A GPU computing in
 * half or mediump floats fails the first two by orders of magnitude.
 */
export function webgl2PrecisionProblem(): string | null {
  if (!(WebGL2Kernel as unknown as { isSupported: boolean }).isSupported) return 'gpu.js finds no WebGL2 support here';
  // A context of its own: gpu.destroy() below may release the context it ran on.
  const { context: ctx, error } = createWebgl2Context();
  if (!ctx) return error;
  const gpu = new GPU({ mode: 'webgl2', canvas: ctx.canvas, context: ctx.gl } as never);
  try {
    const k = gpu.createKernel(
      'function(a, b) {\nif (this.thread.x == 0) return a[0] * 2.0 - 1.0;\nif (this.thread.x == 1) return (a[1] + b[0]) - a[1];\nlet s = 0.0;\nfor (let i = 0; i < 64; i++) { s += a[i] * b[i]; }\nreturn s;\n}',
      { output: [3], precision: 'single', tactic: 'precision', argumentTypes: { a: 'Array', b: 'Array' } } as never,
    ) as unknown as ((a: Float32Array, b: Float32Array) => ArrayLike<number>) & { kernel: { constructor: { name: string } } };
    const a = new Float32Array(64);
    const b = new Float32Array(64);
    a[0] = 8388608; // 2^23: 2·2^23 − 1 = 2^24 − 1 needs all 24 bits
    a[1] = 1;
    b[0] = 2 ** -23;
    let expected = 0;
    for (let i = 0; i < 64; i++) {
      if (i > 1) a[i] = Math.fround(1 / (i + 1));
      if (i > 0) b[i] = Math.fround((i % 7) - 3);
      expected += a[i] * b[i];
    }
    const out = Array.from(k(a, b));
    if (k.kernel.constructor.name !== 'WebGL2Kernel') return `gpu.js ran the probe on ${k.kernel.constructor.name}, not WebGL2`;
    if (out[0] !== 16777215) return `the GPU computes with less than float32 precision (2^24 - 1 came back as ${out[0]})`;
    if (out[1] !== 2 ** -23) return `the GPU computes with less than float32 precision ((1 + 2^-23) - 1 came back as ${out[1]})`;
    if (!(Math.abs(out[2] - expected) <= 2 ** -20 * 64 * 8)) return `a 64-term dot product came back as ${out[2]}, expected ${expected}`;
    return null;
  } catch (e) {
    return `the probe kernel failed: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    gpu.destroy();
  }
}
