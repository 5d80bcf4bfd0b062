import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { combinations, expandGrid, nestKeys, sftKey } from './grid.js';
import { decodeSpec, type ExperimentSpec } from './spec.js';

/** A valid spec; tests break one thing at a time. */
const valid = (): Record<string, unknown> => ({
  name: 'unit',
  question: 'Does GANPO help?',
  base: { model: { init: 'tiny' }, sft: { steps: 2 }, preference: { steps: 2 } },
  axes: [
    { name: 'method', variants: [{ label: 'DPO', set: { 'ganpo.enabled': false } }, { label: 'DPO+GANPO', set: { 'ganpo.enabled': true } }] },
    { name: 'noise', key: 'data.task.labelNoise', values: [0, 0.2] },
  ],
  seeds: [0, 1, 2],
  metrics: ['reward@0', 'shifted/accuracy', 'tokenKl'],
  evaluation: { temperatures: [0, 1], prompts: 4, pairs: 4, maxNewTokens: 8, shifted: true },
  comparisons: [{ axis: 'method', treatment: 'DPO+GANPO', baseline: 'DPO' }],
  out: '/tmp/ganpo-unit-experiment',
});

/** The problem lines of the ConfigError that decoding (and expanding) `u` throws. */
function problems(u: unknown): string[] {
  try {
    expandGrid(decodeSpec(u, 'spec.json'));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [(e as ConfigError).message, ...(e as ConfigError).details];
  }
  throw new Error('expected the spec to be rejected');
}

const edit = (f: (s: Record<string, any>) => void) => {
  const s = valid();
  f(s);
  return s;
};

describe('experiment spec: bad specs are rejected with the path of the problem', () => {
  it('accepts the valid spec', () => {
    const grid = expandGrid(decodeSpec(valid(), 'spec.json'));
    expect(grid.cells).toHaveLength(2 * 2 * 3);
  });

  it('an unknown key, at the top, in an axis, in a variant or in a comparison', () => {
    expect(problems(edit((s) => (s.seed = [1])))).toContainEqual(expect.stringMatching(/^seed: unknown key \(did you mean 'seeds'\?\)/));
    expect(problems(edit((s) => (s.axes[1].vals = [1])))).toContainEqual(expect.stringMatching(/^axes\.1\.vals: unknown key/));
    expect(problems(edit((s) => (s.axes[0].variants[1].sets = {})))).toContainEqual(expect.stringMatching(/^axes\.0\.variants\.1\.sets: unknown key \(did you mean 'set'\?\)/));
    expect(problems(edit((s) => (s.comparisons[0].treatmnt = 'x')))).toContainEqual(expect.stringMatching(/^comparisons\.0\.treatmnt: unknown key/));
  });

  it('an empty grid: no values on an axis, no seeds, no metrics', () => {
    expect(problems(edit((s) => (s.axes[1].values = [])))).toContainEqual('axes.1.values: is empty: the grid would have no runs');
    expect(problems(edit((s) => (s.seeds = [])))).toContainEqual('seeds: is empty: at least one seed is needed');
    expect(problems(edit((s) => (s.metrics = [])))).toContainEqual(expect.stringMatching(/^metrics: is empty/));
  });

  it('a bad value in the spec itself', () => {
    expect(problems(edit((s) => (s.evaluation.prompts = 0)))).toContainEqual(expect.stringMatching(/^evaluation\.prompts: expected an integer ≥ 1, got 0/));
    expect(problems(edit((s) => (s.seeds = [0, 0])))).toContainEqual('seeds: has repeated seeds');
    expect(problems(edit((s) => (s.metrics = ['reward@0.5'])))).toContainEqual(expect.stringMatching(/^metrics\.0: unknown metric 'reward@0\.5'/));
    expect(problems(edit((s) => (s.comparisons[0].baseline = 'SimPO')))).toContainEqual(expect.stringMatching(/^comparisons\.0\.baseline: 'SimPO' is not a value of axis 'method'/));
  });

  it('a bad configuration value is caught by the training config codec, naming the run and the key', () => {
    const lines = problems(edit((s) => (s.axes[1].values = [0, 'lots'])));
    expect(lines[0]).toMatch(/invalid run configuration in the grid \(6 runs\)/);
    expect(lines).toContainEqual('run DPO_lots_s0 (method=DPO, noise=lots): data.task: labelNoise: expected a number ≥ 0 and ≤ 1, got "lots"');
    const lr = problems(edit((s) => (s.axes[0].variants[0].set = { 'preference.lr': -1 })));
    expect(lr.join('\n')).toMatch(/preference\.lr: expected a number ≥ 0, got -1/);
    const unknown = problems(edit((s) => (s.base = { preference: { stepz: 3 } })));
    expect(unknown.join('\n')).toMatch(/preference\.stepz: unknown key \(did you mean 'steps'\?\)/);
    const ganpo = problems(edit((s) => (s.axes[0].variants[1].set = { 'ganpo.pooling': 'sideways' })));
    expect(ganpo.join('\n')).toMatch(/pooling/);
  });
});

describe('experiment grid', () => {
  it('nests dotted keys and takes the cartesian product of the axes, first axis slowest', () => {
    expect(nestKeys({ 'a.b': 1, 'a.c': 2, d: 3 })).toEqual({ a: { b: 1, c: 2 }, d: 3 });
    const spec = decodeSpec(valid(), 'spec.json');
    expect(combinations(spec.axes).map((c) => c.labels)).toEqual([
      { method: 'DPO', noise: '0' },
      { method: 'DPO', noise: '0.2' },
      { method: 'DPO+GANPO', noise: '0' },
      { method: 'DPO+GANPO', noise: '0.2' },
    ]);
  });

  it('cells of one seed share one SFT model when only preference settings differ; seeds do not share', () => {
    const grid = expandGrid(decodeSpec(valid(), 'spec.json'));
    const keys = (seed: number) => new Set(grid.cells.filter((c) => c.seed === seed).map((c) => c.sft!.key));
    expect(keys(0).size).toBe(1); // method and label noise do not change the SFT stage
    expect(keys(1).size).toBe(1);
    expect([...keys(0)][0]).not.toBe([...keys(1)][0]);
    for (const c of grid.cells) {
      expect(c.config.stage).toBe('preference');
      expect(c.config.model.init).toBe(`${c.sft!.dir}/policy`);
      expect(c.config.seed).toBe(c.seed);
    }
    // A different SFT length is a different SFT model.
    const longer = grid.cells[0].sft!.config;
    expect(sftKey({ ...longer, sft: { ...longer.sft, steps: 3 } })).not.toBe(grid.cells[0].sft!.key);
  });

  it('--quick takes the quick seeds, base and evaluation', () => {
    const spec = decodeSpec(edit((s) => (s.quick = { seeds: [7], base: { preference: { steps: 1 } }, evaluation: { prompts: 2 } })), 'spec.json') as ExperimentSpec;
    const grid = expandGrid(spec, { quick: true });
    expect(grid.cells.map((c) => c.seed)).toEqual([7, 7, 7, 7]);
    expect(grid.cells[0].config.preference.steps).toBe(1);
    expect(grid.evaluation.prompts).toBe(2);
    expect(grid.evaluation.pairs).toBe(4);
  });
});
