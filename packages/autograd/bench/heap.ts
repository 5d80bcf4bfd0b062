/**
 * Heap check: 1000 training steps of a small causal transformer (2 blocks, AdamW, grad clipping), printing
 * heapUsed (and typed-array backing stores, arrayBuffers) after a forced GC every 100 steps. Flat numbers mean the tape, gradients and optimizer state are
 * all released between steps (no unbounded growth).
 *
 * Run from the repository root (no build needed; esbuild bundles the TypeScript sources):
 *   npx esbuild packages/autograd/bench/heap.ts --bundle --platform=node --format=esm --outfile=/tmp/ganpo-heap.mjs \
 *     && node --expose-gc /tmp/ganpo-heap.mjs [steps]
 */
import { AdamW, Rng, clipGradNorm, crossEntropy, indices, sum } from '../src/index.js';
import { TinyLM } from '../src/testing/tiny-lm.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const steps = Number(process.argv[2] ?? 1000);
const [vocab, t, batch] = [16, 8, 16];
const model = new TinyLM(vocab, t, 32, Rng.seeded(0), { dropout: 0.1 });
const opt = new AdamW(model.namedParameters(), { lr: 1e-3 });
const data = Rng.seeded(1);
const mb = (n: number) => (n / 2 ** 20).toFixed(2);
console.log(`parameters: ${model.parameterCount()}, steps: ${steps}`);
const start = Date.now();
for (let step = 1; step <= steps; step++) {
  // A learnable task: each row counts up (mod vocab) from a random start; predict the next number.
  const starts = Array.from({ length: batch }, () => data.int(0, vocab - 1));
  const ids = starts.flatMap((s) => Array.from({ length: t }, (_, i) => (s + i) % vocab));
  const targets = ids.map((id) => (id + 1) % vocab);
  opt.zeroGrad();
  const loss = sum(crossEntropy(model.forward(indices(ids, [batch, t])), indices(targets, [batch, t]))).div(batch * t);
  loss.backward();
  clipGradNorm(model.parameters(), 1);
  opt.step();
  if (step % 100 === 0 || step === 1) {
    // Collect, let V8's background sweeper release array-buffer backing stores, collect again.
    gc();
    await new Promise((r) => setTimeout(r, 20));
    gc();
    const m = process.memoryUsage();
    console.log(`step ${String(step).padStart(5)}  loss ${loss.item().toFixed(4)}  heapUsed ${mb(m.heapUsed)} MiB  arrayBuffers ${mb(m.arrayBuffers)} MiB  (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  }
}
