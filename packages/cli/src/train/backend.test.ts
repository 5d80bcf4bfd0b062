import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { selectBackend } from './backend.js';

// A bad engine setting is the user's error, reported before the run starts (not an "internal error" at the first kernel).

afterEach(() => {
  delete process.env.GANPO_FAST_RESIDENT_MB;
});

describe('selectBackend', () => {
  it('rejects a bad GANPO_FAST_RESIDENT_MB for the fast backend with a ConfigError naming it', () => {
    process.env.GANPO_FAST_RESIDENT_MB = 'lots';
    expect(() => selectBackend('fast')).toThrow(ConfigError);
    expect(() => selectBackend('fast')).toThrow('GANPO_FAST_RESIDENT_MB: expected a number of MiB >= 0, got "lots"');
    expect(selectBackend('cpu').name).toBe('cpu'); // the variable concerns the fast backend only
  });

  it('accepts a valid budget and an unknown backend name is a ConfigError', () => {
    process.env.GANPO_FAST_RESIDENT_MB = '256';
    expect(selectBackend('fast').name).toBe('fast');
    expect(() => selectBackend('warp')).toThrow(/--backend warp: unknown backend/);
  });
});
