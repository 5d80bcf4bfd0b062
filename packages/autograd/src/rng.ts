import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/**
 * An explicit, seeded random generator (xoroshiro128+ from pure-rand). Every random choice in ganpo
 * takes one, so the same seed gives the same run; its state can be saved and restored for exact resume.
 */
export class Rng {
  private constructor(private gen: JumpableRandomGenerator) {}

  /**
   * A generator from an integer seed. The seed is scrambled with splitmix32 into the four state words:
   * pure-rand's own seeding places the seed in the state unmixed, so the first draws of nearby seeds are nearly
   * equal (Rng.seeded(s).uniform() ≈ 1 for every small s).
   */
  static seeded(seed: number): Rng {
    let x = seed | 0;
    const next = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    const state: number[] = [next(), next(), next(), next()];
    if (!state.some((w) => w !== 0)) state[0] = 1; // the all-zero state is a fixed point of xoroshiro
    return new Rng(xoroshiro128plusFromState(state));
  }

  static fromState(state: readonly number[]): Rng {
    return new Rng(xoroshiro128plusFromState(state));
  }

  state(): number[] {
    return [...this.gen.getState()];
  }

  /** Restores a saved state in place (so every holder of this generator continues from it). */
  setState(state: readonly number[]): void {
    this.gen = xoroshiro128plusFromState(state);
  }

  clone(): Rng {
    return Rng.fromState(this.state());
  }

  /** An independent stream: this generator jumped 2^64 steps ahead (this one advances by one draw). */
  split(): Rng {
    const child = this.gen.clone() as JumpableRandomGenerator;
    child.jump();
    this.gen.next();
    return new Rng(child);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return uniformInt(this.gen, lo, hi);
  }

  /** Standard normal (Box–Muller; one draw per call for simplicity of the state). */
  normal(): number {
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}
