import { cpuBackend } from '../cpu.js';
import { materialize, materializeArgs } from '../pending.js';
import { resolveBackend } from '../registry.js';
import { broadcastStrides, contiguousStrides, sizeOf } from '../shape.js';
import type { Backend, BinaryOp, Buf, DType, LayerNormResult, MatmulSpec, ReduceOp, Shape, SortResult, UnaryOp } from '../types.js';
import { GpujsRuntime, type GpujsActualMode, type DeviceOut, type GpujsMode, type GpujsRuntimeOptions, type GpujsStats, type KernelArg } from './runtime.js';
import {
  binaryKernel, concatKernel, copyStridedKernel, crossEntropyGradKernel, crossEntropyKernel, gatherKernel, indexAddKernel, indexSelectKernel,
  layerNormApplyKernel, matmulKernel, mergeAxes, padKernel, reduceChunksKernel, reduceKernel, rowGatherKernel, rowMaxKernel,
  rowMeanKernel, rowRstdKernel, rowSumExpKernel, scatterAddKernel, softmaxApplyKernel, sortInvertKernel, sortRankKernel,
  unaryKernel, whereKernel, type Planned,
} from './sources.js';

/**
 * Largest buffer (in elements) a gpu.js kernel handles here: index math is float32, exact to 2^24.
 * Larger calls run the reference loops (float32 in, float32 out) and are counted in stats().hostFallbacks.
 */
export const GPUJS_MAX_ELEMENTS = 2 ** 24;

/** Most pieces one concat kernel takes (each is a texture unit on GL); more are concatenated in groups. */
const CONCAT_GROUP = 8;

export interface GpujsBackendOptions extends Omit<GpujsRuntimeOptions, 'mode'> {
  /** gpu.js mode: 'gpu' (gpu.js's automatic choice), 'headlessgl', 'webgl2' (browser), 'webasm' or 'cpu'. Default 'gpu'. */
  mode?: GpujsMode;
}

export interface GpujsBackend extends Backend {
  /** The mode asked for and the gpu.js backend actually running the kernels. */
  readonly mode: { requested: GpujsMode; actual: GpujsActualMode; renderer: string | null };
  /** GL modes: results stay on the device as pending placeholders until something reads them (see pending.ts). */
  readonly pendingResults: boolean;
  /** Counters: compiles, cache hits, evictions, readbacks, uploads avoided by residency, host fallbacks. */
  stats(): GpujsStats & { hostFallbacks: number; float64Calls: number };
  /** Releases every kernel, texture and the GL context. The backend cannot be used afterwards. */
  dispose(): void;
}

const isF64 = (x: Buf): boolean => x instanceof Float64Array;

/**
 * The gpu.js backend: every primitive kernel of `Backend` runs as a gpu.js kernel in float32.
 * float64 inputs run the reference cpu kernels instead (gradient checks need the precision; gpu.js cannot give it).
 */
export function createGpujsBackend(options: GpujsBackendOptions = {}): GpujsBackend {
  const rt = new GpujsRuntime({ ...options, mode: options.mode ?? 'gpu' });
  let hostFallbacks = 0;
  let float64Calls = 0;

  /**
   * True when this call must run on the reference backend (float64, or a buffer past the float32 index range);
   * its inputs are then read back (results of earlier calls may still be pending on the device).
   */
  const reference = (bufs: readonly Buf[], ...sizes: number[]): boolean => {
    if (bufs.some(isF64)) {
      float64Calls++;
      materializeArgs(bufs);
      return true;
    }
    if (bufs.some((b) => b.length > GPUJS_MAX_ELEMENTS) || sizes.some((n) => n > GPUJS_MAX_ELEMENTS)) {
      hostFallbacks++;
      materializeArgs(bufs);
      return true;
    }
    return false;
  };

  const run = (p: Planned, args: readonly KernelArg[]): DeviceOut => rt.run(p.key, p.spec, args);
  const runRead = (p: Planned, args: readonly KernelArg[]): Float32Array => rt.read(run(p, args));
  const f32 = (x: Int32Array): Float32Array => Float32Array.from(x);

  // Kernels it does not implement (the fused backward ones) are the reference ones through resolveBackend.
  const backend: Omit<GpujsBackend, 'softmaxBackward' | 'layerNormBackward' | 'unaryBackward'> = {
    name: 'gpujs',
    // On GL modes results stay on the device until read (runtime.ts `read`): the reference fallbacks read them back.
    pendingResults: rt.isGL,
    mode: { requested: rt.requested, actual: rt.mode, renderer: rt.renderer },

    describe(): string {
      const chosen = rt.requested === rt.mode ? rt.mode : `${rt.requested} → ${rt.mode}`;
      const renderer = rt.renderer ? `, renderer: ${rt.renderer}` : '';
      const residency = rt.isGL ? ', outputs stay on the device as textures until read' : '';
      const degraded = rt.stats().degraded.length;
      const warn = degraded > 0 ? `; ${degraded} kernel(s) fell back to gpu.js cpu` : '';
      return `gpu.js ${chosen} (float32${renderer}${residency}; float64 runs the reference cpu kernels${warn})`;
    },

    fill(size: number, value: number, dtype: DType): Buf {
      return cpuBackend.fill(size, value, dtype);
    },

    cast(x: Buf, dtype: DType): Buf {
      return cpuBackend.cast(materialize(x), dtype);
    },

    unary(op: UnaryOp, x: Buf): Buf {
      if (reference([x])) return cpuBackend.unary(op, x);
      if (x.length === 0) return new Float32Array(0);
      return rt.withOp(() => runRead(unaryKernel(op, x.length), [x as Float32Array]));
    },

    binary(op: BinaryOp, a: Buf, aShape: Shape, b: Buf, bShape: Shape, outShape: Shape): Buf {
      const n = sizeOf(outShape);
      if (reference([a, b], n)) return cpuBackend.binary(op, a, aShape, b, bShape, outShape);
      if (n === 0) return new Float32Array(0);
      const p = binaryKernel(op, outShape, broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape));
      return rt.withOp(() => runRead(p, [a as Float32Array, b as Float32Array]));
    },

    where(cond: Buf, condShape: Shape, a: Buf, aShape: Shape, b: Buf, bShape: Shape, outShape: Shape): Buf {
      const n = sizeOf(outShape);
      if (reference([cond, a, b], n)) return cpuBackend.where(cond, condShape, a, aShape, b, bShape, outShape);
      if (n === 0) return new Float32Array(0);
      // The condition only needs to be compared with 0; a float64 mask would have sent us to the reference above.
      const p = whereKernel(outShape, broadcastStrides(condShape, outShape), broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape));
      return rt.withOp(() => runRead(p, [cond as Float32Array, a as Float32Array, b as Float32Array]));
    },

    reduce(op: ReduceOp, x: Buf, shape: Shape, axes: readonly number[]): Buf {
      if (reference([x])) return cpuBackend.reduce(op, x, shape, axes);
      const outSize = sizeOf(shape.map((d, i) => (axes.includes(i) ? 1 : d)));
      if (outSize === 0) return new Float32Array(0);
      if (x.length === 0) return new Float32Array(outSize).fill(op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity);
      const strides = contiguousStrides(shape);
      const keptAxes = shape.map((_, d) => d).filter((d) => !axes.includes(d));
      const redAxes = shape.map((_, d) => d).filter((d) => axes.includes(d));
      const km = mergeAxes(keptAxes.map((d) => shape[d]), [keptAxes.map((d) => strides[d])]);
      const rm = mergeAxes(redAxes.map((d) => shape[d]), [redAxes.map((d) => strides[d])]);
      const kept = { shape: km.shape, strides: km.strides[0] };
      const red = { shape: rm.shape, strides: rm.strides[0] };
      const len = sizeOf(red.shape);
      return rt.withOp(() => {
        // Few outputs over one long axis: two passes (√len chunks, then the chunk results) keep the
        // device busy and sum in a tree, which is also more accurate than one long running sum.
        if (red.shape.length === 1 && len >= 4096 && outSize <= 1024) {
          const chunk = Math.ceil(Math.sqrt(len));
          const parts = Math.ceil(len / chunk);
          const partial = run(reduceChunksKernel(op, kept, len, red.strides[0], chunk, parts), [x as Float32Array]);
          const out = run(reduceKernel(op, { shape: [outSize], strides: [parts] }, { shape: [parts], strides: [1] }), [partial]);
          rt.free(partial);
          return rt.read(out);
        }
        return runRead(reduceKernel(op, kept, red), [x as Float32Array]);
      });
    },

    copyStrided(x: Buf, outShape: Shape, strides: readonly number[], offset: number): Buf {
      const n = sizeOf(outShape);
      if (reference([x], n)) return cpuBackend.copyStrided(x, outShape, strides, offset);
      if (n === 0) return new Float32Array(0);
      return rt.withOp(() => runRead(copyStridedKernel(outShape, strides), [x as Float32Array, offset]));
    },

    pad(x: Buf, shape: Shape, before: readonly number[], after: readonly number[], value: number): Buf {
      const outShape = shape.map((d, i) => d + before[i] + after[i]);
      const n = sizeOf(outShape);
      if (reference([x], n)) return cpuBackend.pad(x, shape, before, after, value);
      if (n === 0) return new Float32Array(0);
      return rt.withOp(() => runRead(padKernel(shape, before, after), [x as Float32Array, value]));
    },

    concat(xs: readonly Buf[], shapes: readonly Shape[], axis: number): Buf {
      const outShape = shapes[0].map((d, i) => (i === axis ? shapes.reduce((acc, s) => acc + s[axis], 0) : d));
      const n = sizeOf(outShape);
      if (reference(xs, n)) return cpuBackend.concat(xs, shapes, axis);
      if (n === 0) return new Float32Array(0);
      const outer = sizeOf(outShape.slice(0, axis));
      const inner = sizeOf(outShape.slice(axis + 1));
      let pieces: { x: KernelArg; size: number }[] = xs
        .map((x, j) => ({ x: x as Float32Array as KernelArg, size: shapes[j][axis] }))
        .filter((p) => p.size > 0);
      return rt.withOp(() => {
        const temps: DeviceOut[] = [];
        while (pieces.length > CONCAT_GROUP) {
          const next: { x: KernelArg; size: number }[] = [];
          for (let g = 0; g < pieces.length; g += CONCAT_GROUP) {
            const group = pieces.slice(g, g + CONCAT_GROUP);
            if (group.length === 1) {
              next.push(group[0]);
              continue;
            }
            const out = run(concatKernel(outer, group.map((p) => p.size), inner), group.map((p) => p.x));
            temps.push(out);
            next.push({ x: out, size: group.reduce((a, p) => a + p.size, 0) });
          }
          pieces = next;
        }
        const out = run(concatKernel(outer, pieces.map((p) => p.size), inner), pieces.map((p) => p.x));
        for (const t of temps) rt.free(t);
        return rt.read(out);
      });
    },

    gather(x: Buf, shape: Shape, axis: number, indices: Int32Array, indexShape: Shape): Buf {
      const n = sizeOf(indexShape);
      if (reference([x], n)) return cpuBackend.gather(x, shape, axis, indices, indexShape);
      if (n === 0) return new Float32Array(0);
      return rt.withOp(() => runRead(gatherKernel(shape, axis, indexShape), [x as Float32Array, f32(indices)]));
    },

    scatterAdd(shape: Shape, axis: number, indices: Int32Array, indexShape: Shape, src: Buf): Buf {
      const n = sizeOf(shape);
      if (reference([src], n)) return cpuBackend.scatterAdd(shape, axis, indices, indexShape, src);
      if (n === 0) return new Float32Array(0);
      if (sizeOf(indexShape) === 0) return new Float32Array(n);
      return rt.withOp(() => runRead(scatterAddKernel(shape, axis, indexShape), [f32(indices), src as Float32Array]));
    },

    indexSelect(x: Buf, shape: Shape, axis: number, indices: Int32Array): Buf {
      const outer = sizeOf(shape.slice(0, axis));
      const inner = sizeOf(shape.slice(axis + 1));
      const n = outer * indices.length * inner;
      if (reference([x], n)) return cpuBackend.indexSelect(x, shape, axis, indices);
      if (n === 0) return new Float32Array(0);
      return rt.withOp(() => runRead(indexSelectKernel(outer, shape[axis], inner, indices.length), [x as Float32Array, f32(indices)]));
    },

    indexAdd(shape: Shape, axis: number, indices: Int32Array, src: Buf): Buf {
      const n = sizeOf(shape);
      if (reference([src], n)) return cpuBackend.indexAdd(shape, axis, indices, src);
      if (n === 0) return new Float32Array(0);
      const outer = sizeOf(shape.slice(0, axis));
      const inner = sizeOf(shape.slice(axis + 1));
      const dim = shape[axis];
      const count = indices.length;
      if (count === 0 || outer * inner === 0) return new Float32Array(n);
      // CSR of the indices (a counting sort, stable): start[a]..start[a+1] index `order`, the j with indices[j] = a.
      const start = new Float32Array(dim + 1);
      for (let j = 0; j < count; j++) start[indices[j] + 1]++;
      for (let a = 0; a < dim; a++) start[a + 1] += start[a];
      const fillAt = Float32Array.from(start);
      const order = new Float32Array(count);
      for (let j = 0; j < count; j++) order[fillAt[indices[j]]++] = j;
      return rt.withOp(() => runRead(indexAddKernel(outer, dim, inner, count), [start, order, src as Float32Array]));
    },

    matmul(a: Buf, b: Buf, spec: MatmulSpec): Buf {
      const n = spec.batch * spec.m * spec.n;
      if (reference([a, b], n)) return cpuBackend.matmul(a, b, spec);
      if (n === 0) return new Float32Array(0);
      if (spec.k === 0) return new Float32Array(n);
      return rt.withOp(() => runRead(matmulKernel(spec), [a as Float32Array, b as Float32Array]));
    },

    softmax(x: Buf, rows: number, cols: number): Buf {
      if (reference([x])) return cpuBackend.softmax(x, rows, cols);
      return rowSoftmax(x as Float32Array, rows, cols, false);
    },

    logSoftmax(x: Buf, rows: number, cols: number): Buf {
      if (reference([x])) return cpuBackend.logSoftmax(x, rows, cols);
      return rowSoftmax(x as Float32Array, rows, cols, true);
    },

    crossEntropyBackward(logits: Buf, rows: number, cols: number, targets: Int32Array, g: Buf): Buf {
      if (reference([logits, g])) return cpuBackend.crossEntropyBackward(logits, rows, cols, targets, g);
      if (rows * cols === 0) return new Float32Array(0);
      const x = logits as Float32Array;
      return rt.withOp(() => {
        const mx = run(rowMaxKernel(rows, cols), [x]);
        const sm = run(rowSumExpKernel(rows, cols), [x, mx]);
        const out = run(crossEntropyGradKernel(rows, cols), [x, mx, sm, f32(targets), g as Float32Array]);
        rt.free(mx);
        rt.free(sm);
        return rt.read(out);
      });
    },

    layerNorm(x: Buf, rows: number, cols: number, gamma: Buf | null, beta: Buf | null, eps: number): LayerNormResult {
      const bufs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
      if (reference(bufs)) return cpuBackend.layerNorm(x, rows, cols, gamma, beta, eps);
      if (rows === 0) return { y: new Float32Array(0), mean: new Float32Array(0), rstd: new Float32Array(0) };
      if (cols === 0) return cpuBackend.layerNorm(x, rows, cols, gamma, beta, eps); // nothing to read: no columns
      return rt.withOp(() => {
        const mean = run(rowMeanKernel(rows, cols), [x as Float32Array]);
        const rstd = run(rowRstdKernel(rows, cols), [x as Float32Array, mean, eps]);
        const args: KernelArg[] = [x as Float32Array, mean, rstd];
        if (gamma) args.push(gamma as Float32Array);
        if (beta) args.push(beta as Float32Array);
        const y = run(layerNormApplyKernel(rows, cols, gamma !== null, beta !== null), args);
        return { y: rt.read(y), mean: rt.read(mean), rstd: rt.read(rstd) };
      });
    },

    crossEntropy(logits: Buf, rows: number, cols: number, targets: Int32Array): Buf {
      if (reference([logits])) return cpuBackend.crossEntropy(logits, rows, cols, targets);
      if (rows === 0) return new Float32Array(0);
      if (cols === 0) return cpuBackend.crossEntropy(logits, rows, cols, targets);
      return rt.withOp(() => runRead(crossEntropyKernel(rows, cols), [logits as Float32Array, f32(targets)]));
    },

    sort(x: Buf, rows: number, cols: number, descending: boolean): SortResult {
      if (reference([x])) return cpuBackend.sort(x, rows, cols, descending);
      if (rows * cols === 0) return { values: new Float32Array(0), indices: new Int32Array(0) };
      return rt.withOp(() => {
        const rank = run(sortRankKernel(rows, cols, descending), [x as Float32Array]);
        const idx = run(sortInvertKernel(rows, cols), [rank]);
        rt.free(rank);
        const values = run(rowGatherKernel(rows, cols), [x as Float32Array, idx]);
        return { values: rt.read(values), indices: Int32Array.from(rt.readTemp(idx)) };
      });
    },

    stats() {
      return { ...rt.stats(), hostFallbacks, float64Calls };
    },

    dispose(): void {
      rt.dispose();
    },
  };

  function rowSoftmax(x: Float32Array, rows: number, cols: number, log: boolean): Float32Array {
    if (rows * cols === 0) return new Float32Array(0);
    return rt.withOp(() => {
      const mx = run(rowMaxKernel(rows, cols), [x]);
      const sm = run(rowSumExpKernel(rows, cols), [x, mx]);
      const out = run(softmaxApplyKernel(rows, cols, log), [x, mx, sm]);
      rt.free(mx);
      rt.free(sm);
      return rt.read(out);
    });
  }

  return resolveBackend(backend);
}
