import type { BinaryOp, MatmulSpec, ReduceOp, UnaryOp } from '../types.js';
import type { KernelSpec } from './runtime.js';
import { binaryExpr, helpersFor, unaryExpr } from './scalar-sources.js';

/**
 * Kernel source generators. Every kernel is specialised to its shapes: sizes and strides are baked into
 * the source as literals, so the index math compiles to a handful of multiply-adds and every loop has a
 * constant trip count (what GLSL ES 1.00 wants). Each generator returns the cache key together with a thunk
 * that builds the source only on a cache miss.
 *
 * Index math runs in float (the only number type every gpu.js backend shares). Coordinates are recovered
 * with floor((i + 0.5) / d), which stays exact below 2^22 even on GPUs whose division is a few ulp off, and
 * the backend keeps every buffer under 2^24 elements (larger ones go to the reference loops).
 */

export interface Planned {
  key: string;
  spec: () => KernelSpec;
}

type Param = readonly [string, 'Array' | 'Float'];

/** A float literal gpu.js types as Float (always with a decimal point). */
export function flt(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`gpujs: cannot bake ${n} into a kernel`);
  return Number.isInteger(n) ? `${n}.0` : `${n}`;
}

function kernel(params: readonly Param[], output: number, body: string, loopMax?: number): KernelSpec {
  const source = `function(${params.map((p) => p[0]).join(', ')}) {\n${body}\n}`;
  return { source, params, output, functions: helpersFor(body), loopMax };
}

const arr = (name: string): Param => [name, 'Array'];
const num = (name: string): Param => [name, 'Float'];

export const contiguous = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
};

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/**
 * Drops size-1 axes and merges neighbouring axes that every operand walks as one (stride[d] = stride[d+1]·n[d+1]),
 * so [2,3,4] + [2,3,4] is one flat axis and a row broadcast is two. Fewer axes: less index math, fewer kernels.
 */
export function mergeAxes(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, j) => {
        outStrides[j][last] = s[d];
      });
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, j) => outStrides[j].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Kernel code that splits the flat float index `idx` into coordinates of `dims` (float variables). */
export function decompose(idx: string, dims: readonly number[], tag: string): { code: string; coords: string[] } {
  const rank = dims.length;
  const coords = new Array<string>(rank);
  let code = '';
  let cur = idx;
  for (let d = rank - 1; d >= 1; d--) {
    const n = dims[d];
    if (n === 1) {
      coords[d] = '0.0';
      continue;
    }
    const q = `${tag}q${d}`;
    code += `const ${q} = Math.floor((${cur} + 0.5) / ${flt(n)});\n`;
    code += `const ${tag}c${d} = ${cur} - ${q} * ${flt(n)};\n`;
    coords[d] = `${tag}c${d}`;
    cur = q;
  }
  if (rank > 0) coords[0] = dims[0] === 1 && rank > 1 ? '0.0' : cur;
  return { code, coords };
}

/** Σ coords[d]·strides[d] + base as a kernel expression (terms with stride 0 dropped). */
export function offsetExpr(coords: readonly string[], strides: readonly number[], base = ''): string {
  const terms: string[] = [];
  coords.forEach((c, d) => {
    const s = strides[d];
    if (s === 0 || c === '0.0') return;
    terms.push(s === 1 ? c : `${c} * ${flt(s)}`);
  });
  if (base) terms.push(base);
  return terms.length === 0 ? '0.0' : terms.join(' + ');
}

const sig = (xs: readonly number[]): string => xs.join(',');

/**
 * An array index expression. A constant-only index (e.g. `0.0` for a broadcast scalar) becomes an integer
 * literal: gpu.js's GLSL output only converts non-constant float indices to int.
 */
export function ix(expr: string): string {
  if (/[A-Za-z_]/.test(expr)) return expr;
  if (!/^[\d.\s+*()-]+$/.test(expr)) throw new Error(`gpujs: bad index expression ${expr}`);
  const value = Function(`return (${expr});`)() as number;
  return String(Math.round(value));
}

// ---------------------------------------------------------------------------------------------------------
// Element-wise

export function unaryKernel(op: UnaryOp, n: number): Planned {
  return {
    key: `unary|${op}|${n}`,
    spec: () => kernel([arr('x')], n, `const v = x[this.thread.x];\nreturn ${unaryExpr(op, 'v')};`),
  };
}

/**
 * out[i] = expr(operands read through broadcast strides). Used by binary (a, b) and where (c, a, b).
 */
export function elementwiseKernel(
  kind: string,
  names: readonly string[],
  outShape: readonly number[],
  operandStrides: readonly (readonly number[])[],
  expr: string,
): Planned {
  const merged = mergeAxes(outShape, operandStrides);
  const n = prod(outShape);
  const key = `ew|${kind}|${sig(merged.shape)}|${merged.strides.map(sig).join('|')}`;
  return {
    key,
    spec: () => {
      const own = contiguous(merged.shape);
      const { code, coords } = decompose('i', merged.shape, 'e');
      let body = `const i = this.thread.x;\n${code}`;
      names.forEach((name, j) => {
        const s = merged.strides[j];
        const off = s.every((v, d) => v === own[d]) ? 'i' : offsetExpr(coords, s);
        body += `const v${name} = ${name}[${ix(off)}];\n`;
      });
      body += `return ${expr};`;
      return kernel(names.map(arr), n, body);
    },
  };
}

export function binaryKernel(op: BinaryOp, outShape: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): Planned {
  return elementwiseKernel(op, ['a', 'b'], outShape, [aStrides, bStrides], binaryExpr(op, 'va', 'vb'));
}

export function whereKernel(outShape: readonly number[], c: readonly number[], a: readonly number[], b: readonly number[]): Planned {
  return elementwiseKernel('where', ['c', 'a', 'b'], outShape, [c, a, b], '(vc != 0.0 ? va : vb)');
}

// ---------------------------------------------------------------------------------------------------------
// Reductions

function combine(op: ReduceOp, v: string): string {
  if (op === 'sum') return `acc += ${v};`;
  // NaN propagates (a NaN element wins and then sticks), like the reference.
  const cmp = op === 'max' ? '>' : '<';
  return `if (${v} ${cmp} acc || ${v} != ${v}) {\nacc = ${v};\n}`;
}

/**
 * out[o] = reduce over the reduced axes of x, where o walks the kept axes. Both axis lists are given as
 * (sizes, strides) into x, already merged; the reduced axes become nested constant-bound loops.
 */
export function reduceKernel(
  op: ReduceOp,
  kept: { shape: readonly number[]; strides: readonly number[] },
  red: { shape: readonly number[]; strides: readonly number[] },
): Planned {
  const outSize = prod(kept.shape);
  const key = `reduce|${op}|${sig(kept.shape)}|${sig(kept.strides)}|${sig(red.shape)}|${sig(red.strides)}`;
  return {
    key,
    spec: () => {
      const { code, coords } = decompose('i', kept.shape, 'k');
      let body = `const i = this.thread.x;\n${code}const base = ${offsetExpr(coords, kept.strides)};\n`;
      body += op === 'sum' ? 'let acc = 0.0;\n' : 'let acc = x[base];\n';
      let open = '';
      let close = '';
      const terms: string[] = ['base'];
      red.shape.forEach((n, d) => {
        open += `for (let r${d} = 0; r${d} < ${n}; r${d}++) {\n`;
        close += '}\n';
        terms.push(red.strides[d] === 1 ? `r${d}` : `r${d} * ${flt(red.strides[d])}`);
      });
      body += `${open}const v = x[${terms.join(' + ')}];\n${combine(op, 'v')}\n${close}return acc;`;
      return kernel([arr('x')], outSize, body);
    },
  };
}

/**
 * First pass of a two-pass reduction over one long axis (length len, stride) for few outputs: each thread
 * reduces one chunk of `chunk` elements; the output is [outSize, parts], reduced again by reduceKernel.
 */
export function reduceChunksKernel(
  op: ReduceOp,
  kept: { shape: readonly number[]; strides: readonly number[] },
  len: number,
  stride: number,
  chunk: number,
  parts: number,
): Planned {
  const outSize = prod(kept.shape) * parts;
  const key = `reduceChunks|${op}|${sig(kept.shape)}|${sig(kept.strides)}|${len}|${stride}|${chunk}|${parts}`;
  return {
    key,
    spec: () => {
      const { code, coords } = decompose('o', kept.shape, 'k');
      let body = `const i = this.thread.x;\nconst o = Math.floor((i + 0.5) / ${flt(parts)});\nconst p = i - o * ${flt(parts)};\n`;
      body += `${code}const base = ${offsetExpr(coords, kept.strides)};\nconst start = p * ${flt(chunk)};\n`;
      const at = (r: string): string => (stride === 1 ? `base + ${r}` : `base + ${r} * ${flt(stride)}`);
      body += op === 'sum' ? 'let acc = 0.0;\n' : `let acc = x[${at('start')}];\n`;
      body += `for (let j = 0; j < ${chunk}; j++) {\nconst r = start + j;\nif (r < ${flt(len)}) {\nconst v = x[${at('r')}];\n${combine(op, 'v')}\n}\n}\nreturn acc;`;
      return kernel([arr('x')], outSize, body);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Movement

/** out[i] = x[off + Σ i_d·strides[d]]; the offset is a uniform so slices at different offsets share a kernel. */
export function copyStridedKernel(outShape: readonly number[], strides: readonly number[]): Planned {
  const merged = mergeAxes(outShape, [strides]);
  const n = prod(outShape);
  return {
    key: `copy|${sig(merged.shape)}|${sig(merged.strides[0])}`,
    spec: () => {
      const { code, coords } = decompose('i', merged.shape, 'e');
      const body = `const i = this.thread.x;\n${code}return x[${offsetExpr(coords, merged.strides[0], 'off')}];`;
      return kernel([arr('x'), num('off')], n, body);
    },
  };
}

/** Constant padding; the fill value is a uniform. */
export function padKernel(shape: readonly number[], before: readonly number[], after: readonly number[]): Planned {
  const outShape = shape.map((d, i) => d + before[i] + after[i]);
  const n = prod(outShape);
  return {
    key: `pad|${sig(shape)}|${sig(before)}|${sig(after)}`,
    spec: () => {
      const inStrides = contiguous(shape);
      const { code, coords } = decompose('i', outShape, 'e');
      let body = `const i = this.thread.x;\n${code}`;
      const conds: string[] = [];
      const src: string[] = [];
      shape.forEach((d, k) => {
        const u = `u${k}`;
        body += `const ${u} = ${coords[k]} - ${flt(before[k])};\n`;
        if (before[k] > 0 || after[k] > 0 || d === 0) conds.push(`${u} < 0.0 || ${u} >= ${flt(d)}`);
        src.push(u);
      });
      if (conds.length > 0) body += `if (${conds.join(' || ')}) {\nreturn val;\n}\n`;
      body += `return x[${ix(offsetExpr(src, inStrides))}];`;
      return kernel([arr('x'), num('val')], n, body);
    },
  };
}

/** Concatenation of up to 8 non-empty pieces along `axis` (more pieces are concatenated in groups). */
export function concatKernel(outer: number, sizes: readonly number[], inner: number): Planned {
  const total = sizes.reduce((a, b) => a + b, 0);
  const n = outer * total * inner;
  return {
    key: `concat|${outer}|${sig(sizes)}|${inner}`,
    spec: () => {
      const { code, coords } = decompose('i', [outer, total, inner], 'e');
      const [o, a, inn] = coords;
      let body = `const i = this.thread.x;\n${code}`;
      let start = 0;
      sizes.forEach((size, j) => {
        const local = start === 0 ? a : `(${a} - ${flt(start)})`;
        const off = offsetExpr([o, local, inn], [size * inner, inner, 1]);
        body += j < sizes.length - 1 ? `if (${a} < ${flt(start + size)}) {\nreturn x${j}[${ix(off)}];\n}\n` : `return x${j}[${ix(off)}];`;
        start += size;
      });
      return kernel(sizes.map((_, j) => arr(`x${j}`)), n, body);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Gather / scatter

/** take_along_axis: out[i] = x[i with axis coordinate replaced by idx[i]]. */
export function gatherKernel(shape: readonly number[], axis: number, indexShape: readonly number[]): Planned {
  const n = prod(indexShape);
  return {
    key: `gather|${sig(shape)}|${axis}|${sig(indexShape)}`,
    spec: () => {
      const xs = contiguous(shape);
      const { code, coords } = decompose('i', indexShape, 'e');
      const cs = coords.map((c, d) => (d === axis ? '0.0' : c));
      const off = offsetExpr(cs, xs, xs[axis] === 1 ? 'idx[i]' : `idx[i] * ${flt(xs[axis])}`);
      return kernel([arr('x'), arr('idx')], n, `const i = this.thread.x;\n${code}return x[${off}];`);
    },
  };
}

/**
 * The adjoint of gather, written gather-style: each output cell loops over the index entries that could hit
 * it (the K entries along `axis` at its other coordinates) and sums the matching sources. No atomics.
 */
export function scatterAddKernel(shape: readonly number[], axis: number, indexShape: readonly number[]): Planned {
  const n = prod(shape);
  return {
    key: `scatterAdd|${sig(shape)}|${axis}|${sig(indexShape)}`,
    spec: () => {
      const is = contiguous(indexShape);
      const { code, coords } = decompose('i', shape, 'e');
      let body = `const i = this.thread.x;\n${code}`;
      const outside = shape
        .map((d, k) => (k !== axis && indexShape[k] < d ? `${coords[k]} >= ${flt(indexShape[k])}` : ''))
        .filter(Boolean);
      if (outside.length > 0) body += `if (${outside.join(' || ')}) {\nreturn 0.0;\n}\n`;
      const pb = offsetExpr(coords.map((c, d) => (d === axis ? '0.0' : c)), is);
      const target = coords[axis];
      body += `const pb = ${pb};\nlet acc = 0.0;\n`;
      body += `for (let j = 0; j < ${indexShape[axis]}; j++) {\nconst pos = pb + j * ${flt(is[axis])};\n`;
      body += `if (idx[pos] == ${target}) {\nacc += src[pos];\n}\n}\nreturn acc;`;
      return kernel([arr('idx'), arr('src')], n, body);
    },
  };
}

/** index_select over a [outer, dim, inner] view: out[o, j, k] = x[o, idx[j], k]. */
export function indexSelectKernel(outer: number, dim: number, inner: number, count: number): Planned {
  const n = outer * count * inner;
  return {
    key: `indexSelect|${outer}|${dim}|${inner}|${count}`,
    spec: () => {
      const { code, coords } = decompose('i', [outer, count, inner], 'e');
      const [o, j, k] = coords;
      const off = offsetExpr([o, `idx[${ix(j)}]`, k], [dim * inner, inner, 1]);
      return kernel([arr('x'), arr('idx')], n, `const i = this.thread.x;\n${code}return x[${off}];`);
    },
  };
}

/**
 * The adjoint of indexSelect, gather-style: the host sorts the indices once (a CSR list: `start[a]..start[a+1]`
 * into `order` are the positions j with idx[j] = a, ascending), and each output cell sums just its own hits.
 */
export function indexAddKernel(outer: number, dim: number, inner: number, count: number): Planned {
  const n = outer * dim * inner;
  return {
    key: `indexAdd|${outer}|${dim}|${inner}|${count}`,
    spec: () => {
      const { code, coords } = decompose('i', [outer, dim, inner], 'e');
      const [o, a, k] = coords;
      let body = `const i = this.thread.x;\n${code}`;
      body += `const s0 = start[${ix(a)}];\nconst cnt = start[${ix(`${a} + 1.0`)}] - s0;\nlet acc = 0.0;\n`;
      body += `for (let t = 0; t < cnt; t++) {\nconst j = order[s0 + t];\nacc += src[${offsetExpr([o, 'j', k], [count * inner, inner, 1])}];\n}\nreturn acc;`;
      return kernel([arr('start'), arr('order'), arr('src')], n, body, count);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Matmul

export function matmulKernel(s: MatmulSpec): Planned {
  const { batch, m, k, n } = s;
  return {
    key: `matmul|${batch}|${m}|${k}|${n}|${s.transA ? 1 : 0}|${s.transB ? 1 : 0}|${s.aBatchStride}|${s.bBatchStride}`,
    spec: () => {
      const { code, coords } = decompose('i', [batch, m, n], 'e');
      const [p, r, c] = coords;
      const aBase = offsetExpr([p, r], [s.aBatchStride, s.transA ? 1 : k]);
      const bBase = offsetExpr([p, c], [s.bBatchStride, s.transB ? k : 1]);
      const aStep = s.transA ? m : 1;
      const bStep = s.transB ? 1 : n;
      const at = (base: string, step: number): string => (step === 1 ? `${base} + q` : `${base} + q * ${flt(step)}`);
      let body = `const i = this.thread.x;\n${code}const ab = ${aBase};\nconst bb = ${bBase};\nlet acc = 0.0;\n`;
      body += `for (let q = 0; q < ${k}; q++) {\nacc += a[${at('ab', aStep)}] * b[${at('bb', bStep)}];\n}\nreturn acc;`;
      return kernel([arr('a'), arr('b')], batch * m * n, body);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Fused row kernels over a [rows, cols] view

const rowOf = (cols: number): string => `const r = Math.floor((i + 0.5) / ${flt(cols)});\n`;

/** Per-row maximum (NaN propagates). */
export function rowMaxKernel(rows: number, cols: number): Planned {
  return {
    key: `rowMax|${rows}|${cols}`,
    spec: () => kernel([arr('x')], rows,
      `const base = this.thread.x * ${flt(cols)};\nlet acc = x[base];\nfor (let c = 0; c < ${cols}; c++) {\nconst v = x[base + c];\n${combine('max', 'v')}\n}\nreturn acc;`),
  };
}

/** Per-row Σ exp(x − max). */
export function rowSumExpKernel(rows: number, cols: number): Planned {
  return {
    key: `rowSumExp|${rows}|${cols}`,
    spec: () => kernel([arr('x'), arr('mx')], rows,
      `const base = this.thread.x * ${flt(cols)};\nconst m = mx[this.thread.x];\nlet s = 0.0;\nfor (let c = 0; c < ${cols}; c++) {\ns += Math.exp(x[base + c] - m);\n}\nreturn s;`),
  };
}

export function softmaxApplyKernel(rows: number, cols: number, log: boolean): Planned {
  const expr = log ? 'x[i] - (mx[r] + Math.log(sm[r]))' : 'Math.exp(x[i] - mx[r]) / sm[r]';
  return {
    key: `${log ? 'logSoftmax' : 'softmax'}|${rows}|${cols}`,
    spec: () => kernel([arr('x'), arr('mx'), arr('sm')], rows * cols, `const i = this.thread.x;\n${rowOf(cols)}return ${expr};`),
  };
}

/** (softmax(x) − onehot(target))·g per element, from the row max and Σexp; rows with a negative target give 0. */
export function crossEntropyGradKernel(rows: number, cols: number): Planned {
  return {
    key: `crossEntropyGrad|${rows}|${cols}`,
    spec: () =>
      kernel([arr('x'), arr('mx'), arr('sm'), arr('tg'), arr('g')], rows * cols,
        `const i = this.thread.x;\n${rowOf(cols)}const t = tg[r];\nif (t < 0.0) {\nreturn 0.0;\n}\nconst c = i - r * ${flt(cols)};\nlet v = Math.exp(x[i] - mx[r]) / sm[r];\nif (Math.abs(c - t) < 0.5) {\nv = v - 1.0;\n}\nreturn v * g[r];`),
  };
}

/** Per-row logsumexp(x) − x[target]; negative targets give 0. */
export function crossEntropyKernel(rows: number, cols: number): Planned {
  return {
    key: `crossEntropy|${rows}|${cols}`,
    spec: () => {
      let body = `const t = tg[this.thread.x];\nif (t < 0.0) {\nreturn 0.0;\n}\nconst base = this.thread.x * ${flt(cols)};\n`;
      body += `let acc = x[base];\nfor (let c = 0; c < ${cols}; c++) {\nconst v = x[base + c];\n${combine('max', 'v')}\n}\n`;
      body += `let s = 0.0;\nfor (let c = 0; c < ${cols}; c++) {\ns += Math.exp(x[base + c] - acc);\n}\nreturn acc + Math.log(s) - x[base + t];`;
      return kernel([arr('x'), arr('tg')], rows, body);
    },
  };
}

export function rowMeanKernel(rows: number, cols: number): Planned {
  return {
    key: `rowMean|${rows}|${cols}`,
    spec: () => kernel([arr('x')], rows,
      `const base = this.thread.x * ${flt(cols)};\nlet s = 0.0;\nfor (let c = 0; c < ${cols}; c++) {\ns += x[base + c];\n}\nreturn s / ${flt(cols)};`),
  };
}

/** Per-row 1/sqrt(mean((x − μ)²) + eps), two-pass like the reference. */
export function rowRstdKernel(rows: number, cols: number): Planned {
  return {
    key: `rowRstd|${rows}|${cols}`,
    spec: () => kernel([arr('x'), arr('mu'), num('eps')], rows,
      `const base = this.thread.x * ${flt(cols)};\nconst m = mu[this.thread.x];\nlet s = 0.0;\nfor (let c = 0; c < ${cols}; c++) {\nconst d = x[base + c] - m;\ns += d * d;\n}\nreturn 1.0 / Math.sqrt(s / ${flt(cols)} + eps);`),
  };
}

export function layerNormApplyKernel(rows: number, cols: number, gamma: boolean, beta: boolean): Planned {
  return {
    key: `layerNorm|${rows}|${cols}|${gamma ? 1 : 0}|${beta ? 1 : 0}`,
    spec: () => {
      let body = `const i = this.thread.x;\n${rowOf(cols)}const c = i - r * ${flt(cols)};\n`;
      body += `let y = (x[i] - mu[r]) * rs[r];\n`;
      if (gamma) body += 'y = y * g[c];\n';
      if (beta) body += 'y = y + b[c];\n';
      body += 'return y;';
      const params: Param[] = [arr('x'), arr('mu'), arr('rs')];
      if (gamma) params.push(arr('g'));
      if (beta) params.push(arr('b'));
      return kernel(params, rows * cols, body);
    },
  };
}

/**
 * Sort, step 1: the destination of each element, rank = #{j : x_j sorts before x_c}, ties broken by
 * position (stable) and NaN last. O(cols) per element.
 */
export function sortRankKernel(rows: number, cols: number, descending: boolean): Planned {
  return {
    key: `sortRank|${rows}|${cols}|${descending ? 1 : 0}`,
    spec: () => {
      const before = descending ? 'w > v' : 'w < v';
      let body = `const i = this.thread.x;\n${rowOf(cols)}const c = i - r * ${flt(cols)};\nconst base = r * ${flt(cols)};\n`;
      // NaN flags are numbers: gpu.js types boolean locals inconsistently in GLSL.
      body += `const v = x[i];\nconst vn = v != v ? 1.0 : 0.0;\nlet rank = 0.0;\n`;
      body += `for (let j = 0; j < ${cols}; j++) {\nconst w = x[base + j];\nconst wn = w != w ? 1.0 : 0.0;\n`;
      body += `if (vn > 0.5) {\nif (wn < 0.5 || j < c) {\nrank += 1.0;\n}\n} else if (wn < 0.5) {\nif (${before} || (w == v && j < c)) {\nrank += 1.0;\n}\n}\n}\nreturn rank;`;
      return kernel([arr('x')], rows * cols, body);
    },
  };
}

/** Sort, step 2: invert the ranks, out[r, p] = the column whose rank is p. */
export function sortInvertKernel(rows: number, cols: number): Planned {
  return {
    key: `sortInvert|${rows}|${cols}`,
    spec: () => {
      let body = `const i = this.thread.x;\n${rowOf(cols)}const p = i - r * ${flt(cols)};\nconst base = r * ${flt(cols)};\n`;
      body += `let idx = 0.0;\nfor (let j = 0; j < ${cols}; j++) {\nif (rk[base + j] == p) {\nidx = j;\n}\n}\nreturn idx;`;
      return kernel([arr('rk')], rows * cols, body);
    },
  };
}

/** Sort, step 3: out[r, p] = x[r, idx[r, p]]. */
export function rowGatherKernel(rows: number, cols: number): Planned {
  return {
    key: `rowGather|${rows}|${cols}`,
    spec: () => kernel([arr('x'), arr('idx')], rows * cols,
      `const i = this.thread.x;\n${rowOf(cols)}return x[r * ${flt(cols)} + idx[i]];`),
  };
}
