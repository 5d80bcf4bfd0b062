import { afterEach, describe, expect, it, vi } from 'vitest';

// GANPO_FAST_RESIDENT_MB sets the resident-output budget when the runtime starts (each case imports a fresh
// copy of the runtime module, so the process-wide runtime of the other tests is untouched).

const fresh = async (value: string | undefined) => {
  vi.resetModules();
  if (value === undefined) delete process.env.GANPO_FAST_RESIDENT_MB;
  else process.env.GANPO_FAST_RESIDENT_MB = value;
  return import('./runtime.js');
};

afterEach(() => {
  delete process.env.GANPO_FAST_RESIDENT_MB;
  vi.resetModules();
});

describe('GANPO_FAST_RESIDENT_MB', () => {
  it('0 makes every output a fresh copy; unset keeps outputs resident', async () => {
    const zero = await fresh('0');
    const a = zero.outputF32(1000);
    expect(zero.getRuntime().holds(a)).toBe(false);
    expect(zero.residentBytes()).toBe(0);
    const unset = await fresh(undefined);
    const b = unset.outputF32(1000);
    expect(unset.getRuntime().holds(b)).toBe(true);
    expect(unset.residentBytes()).toBeGreaterThan(0);
  });

  it('a budget smaller than an output makes that output a copy, a larger one keeps it resident', async () => {
    const small = await fresh('1');
    expect(small.getRuntime().holds(small.outputF32(1 << 19))).toBe(false); // 2 MiB > 1 MiB
    expect(small.getRuntime().holds(small.outputF32(1 << 10))).toBe(true);
  });

  it('a bad value is an error naming the variable, not a silent fall-back to the reference kernels', async () => {
    const bad = await fresh('lots');
    expect(() => bad.outputF32(10)).toThrow('GANPO_FAST_RESIDENT_MB: expected a number of MiB >= 0, got "lots"');
    expect(bad.runtimeUnavailableReason()).toBeNull();
    const negative = await fresh('-5');
    expect(() => negative.getRuntime()).toThrow(/GANPO_FAST_RESIDENT_MB/);
  });
});
