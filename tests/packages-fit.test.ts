import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor } from '@ganpo/autograd';
import { CausalLM, freezeReference, precomputeReference } from '@ganpo/models';
import { referencePairs } from '@ganpo/models';
import { dpo, type PairLogps } from '@ganpo/objectives';
import { ROOT, missingBuild, tempDir } from './helpers/cli.js';

/** The packages fit together: shapes one returns are the shapes the next expects, across ESM and CJS builds. */

describe('packages fit together', () => {
  it("the models package's reference pairs spread into the objectives' PairLogps", () => {
    const model = new CausalLM({ vocabSize: 11, contextLength: 8, dModel: 8, nLayers: 1, nHeads: 2, dropout: 0 }, { seed: 1 });
    const ids = new Int32Array([1, 2, 3, 4, 1, 2, 5, 6, 1, 3, 3, 4, 1, 2, 6, 5]);
    const batch = { rows: 4, seqLen: 4, ids, attentionMask: new Float32Array(16).fill(1), lossMask: Float32Array.from({ length: 16 }, (_, i) => (i % 4 >= 2 ? 1 : 0)) };
    const [stored] = precomputeReference(freezeReference(model), [batch]);
    const input: PairLogps = { policyChosen: tensor([-3, -4]), policyRejected: tensor([-5, -4]), chosenLengths: tensor([2, 2]), rejectedLengths: tensor([2, 2]), ...referencePairs(stored) };
    const term = dpo({ beta: 0.1 })(input);
    expect(Number.isFinite(term.loss.item())).toBe(true);
  });

  const skip = missingBuild();
  it.skipIf(skip !== null)(`tensors of the CJS build feed the ESM build's objectives; one backend registry (${skip ?? 'built'})`, () => {
    const dir = tempDir('esm-cjs');
    const script = join(dir, 'mix.mjs');
    const dist = (p: string, f: string) => JSON.stringify(join(ROOT, 'packages', p, 'dist', f));
    writeFileSync(
      script,
      `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const autogradCjs = require(${dist('autograd', 'index.cjs')});
const kernelsCjs = require(${dist('kernels', 'index.cjs')});
const kernelsEsm = await import(${dist('kernels', 'index.js')});
const objectivesEsm = await import(${dist('objectives', 'index.js')});
const t = (xs) => autogradCjs.tensor(xs);
const term = objectivesEsm.dpo({ beta: 0.1 })({ policyChosen: t([-1, -2]), policyRejected: t([-3, -1]), refChosen: t([-2, -2]), refRejected: t([-2, -2]), chosenLengths: t([2, 2]), rejectedLengths: t([2, 2]) });
kernelsCjs.setBackend('cpu');
console.log(JSON.stringify({ loss: term.loss.item(), sameBackend: kernelsEsm.getBackend() === kernelsCjs.getBackend(), backends: kernelsEsm.registeredBackends().join(',') === kernelsCjs.registeredBackends().join(',') }));
`,
    );
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { loss: number; sameBackend: boolean; backends: boolean };
    expect(Number.isFinite(out.loss)).toBe(true);
    expect(out.sameBackend).toBe(true);
    expect(out.backends).toBe(true);
  });
});
