import v8 from 'node:v8';
import vm from 'node:vm';
import { fastResidentBytes } from '@ganpo/kernels';
import { describe, expect, it } from 'vitest';
import { AdamW, Linear, Rng, Tensor, TransformerBlock, crossEntropy, indices, sum } from '../index.js';

// A cheap guard against unbounded growth (a retained tape, gradients kept alive, optimizer state growing):
// memory after a forced GC (JS heap plus typed-array backing stores) must not grow by more than a generous
// bound between step 50 and step 250 of a small training loop. The positive control keeps every step's loss,
// and so its whole tape, alive: over only 100 steps it must exceed twice the bound, which shows the bound can catch a
// leak. The full 1000-step figures come from bench/heap.ts.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * Collects, lets V8's background sweeper release array-buffer backing stores (and the fast backend's
 * finalizers return the WebAssembly blocks of collected outputs), and collects again. Counts the JS heap,
 * typed-array backing stores and the outputs resident in the fast backend's WebAssembly memory.
 */
async function settledMemory(): Promise<number> {
  gc();
  await new Promise((r) => setTimeout(r, 20));
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers + fastResidentBytes();
}

async function growth(steps: number, retain: Tensor[] | null): Promise<number> {
  const rng = Rng.seeded(0);
  const block = new TransformerBlock(16, 2, 32, { rng, causal: true, dropout: 0.1 });
  const head = new Linear(16, 8, { rng });
  const opt = new AdamW([...block.parameters(), ...head.parameters()], { lr: 1e-3 });
  const data = Rng.seeded(1);
  let base = 0;
  for (let step = 1; step <= steps; step++) {
    const x = new Tensor(new Float32Array(8 * 8 * 16).map(() => data.normal()), [8, 8, 16], null);
    const targets = indices(Array.from({ length: 64 }, () => data.int(0, 7)), [8, 8]);
    opt.zeroGrad();
    const loss = sum(crossEntropy(head.forward(block.forward(x)), targets));
    loss.backward();
    opt.step();
    retain?.push(loss);
    if (step === 50) base = await settledMemory();
  }
  return (await settledMemory()) - base;
}

describe('memory', () => {
  it('200 training steps grow memory (after GC) by less than 4 MiB; retaining the tapes for 100 steps grows it past twice that', async () => {
    const MiB = 2 ** 20;
    const honest = await growth(250, null);
    const leaky = await growth(150, []);
    console.log(`memory growth over 200 steps: ${(honest / MiB).toFixed(2)} MiB; with every tape retained, over only 100 steps: ${(leaky / MiB).toFixed(2)} MiB`);
    expect(honest).toBeLessThan(4 * MiB);
    expect(leaky).toBeGreaterThan(2 * 4 * MiB);
  });
});
