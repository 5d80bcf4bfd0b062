import { formatShape } from '@ganpo/kernels';
import type { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';

export type StateDict = Record<string, Tensor>;

/**
 * A tree of named parameters, buffers and sub-modules, PyTorch style. Parameter paths join names
 * with dots ("blocks.0.attn.qkv.weight"); the state dict holds parameters and buffers by path.
 * Each subclass defines its own `forward` with the signature it needs.
 */
export abstract class Module {
  training = true;
  private readonly ownParameters = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  private readonly ownRngs = new Map<string, Rng>();

  protected registerParameter(name: string, value: Tensor): Tensor {
    value.requireGrad();
    this.ownParameters.set(name, value);
    return value;
  }

  /** Persistent state that is saved and loaded but not trained (e.g. spectral norm's u vector). */
  protected registerBuffer(name: string, value: Tensor): Tensor {
    this.ownBuffers.set(name, value);
    return value;
  }

  /** A random stream the module draws from (dropout); saved and restored with `rngStateDict` for exact resume. */
  protected registerRng(name: string, rng: Rng): Rng {
    this.ownRngs.set(name, rng);
    return rng;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const own = [...this.ownParameters].map(([n, t]): [string, Tensor] => [prefix + n, t]);
    return own.concat(...[...this.children].map(([n, m]) => m.namedParameters(`${prefix}${n}.`)));
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const own = [...this.ownBuffers].map(([n, t]): [string, Tensor] => [prefix + n, t]);
    return own.concat(...[...this.children].map(([n, m]) => m.namedBuffers(`${prefix}${n}.`)));
  }

  namedRngs(prefix = ''): [string, Rng][] {
    const own = [...this.ownRngs].map(([n, r]): [string, Rng] => [prefix + n, r]);
    return own.concat(...[...this.children].map(([n, m]) => m.namedRngs(`${prefix}${n}.`)));
  }

  /** The state of every random stream below this module, by path. */
  rngStateDict(): Record<string, number[]> {
    return Object.fromEntries(this.namedRngs().map(([n, r]) => [n, r.state()]));
  }

  /** Restores random streams in place; missing or unexpected names are an error. */
  loadRngStateDict(states: Record<string, readonly number[]>): void {
    const own = new Map(this.namedRngs());
    const problems = [
      ...[...own.keys()].filter((n) => !(n in states)).map((n) => `missing rng ${n}`),
      ...Object.keys(states).filter((n) => !own.has(n)).map((n) => `unexpected rng ${n}`),
    ];
    if (problems.length > 0) throw new Error(`loadRngStateDict: ${problems.join('; ')}`);
    for (const [n, r] of own) r.setState(states[n]);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Parameters and buffers by path (the tensors themselves: copy before mutating). */
  stateDict(): StateDict {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values in by path. Strict mode (default) rejects missing and unexpected names and any shape
   * mismatch, listing them all in one message.
   */
  loadStateDict(state: StateDict, options: { strict?: boolean } = {}): void {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const problems: string[] = [];
    for (const [name, t] of Object.entries(own)) {
      const src = state[name];
      if (!src) {
        if (strict) problems.push(`missing ${name}`);
        continue;
      }
      if (src.size !== t.size || src.shape.some((d, i) => d !== t.shape[i]) || src.rank !== t.rank) {
        problems.push(`${name}: shape ${formatShape(src.shape)} in the state dict, ${formatShape(t.shape)} in the module`);
        continue;
      }
      t.assign(src.data.slice());
    }
    if (strict) for (const name of Object.keys(state)) if (!(name in own)) problems.push(`unexpected ${name}`);
    if (problems.length > 0) throw new Error(`loadStateDict: ${problems.join('; ')}`);
  }

  /** Training mode (dropout on) for this module and all below it. */
  train(mode = true): this {
    this.training = mode;
    for (const m of this.children.values()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** No parameter gradients (a frozen reference model or discriminator); eval mode too. */
  freeze(): this {
    for (const p of this.parameters()) p.requireGrad(false);
    return this.eval();
  }

  unfreeze(): this {
    for (const p of this.parameters()) p.requireGrad(true);
    return this;
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
}

/** Copies every parameter and buffer value of `source` into `target` (same architecture). */
export function copyState(target: Module, source: Module): void {
  const sd = source.stateDict();
  target.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, new Tensor(t.data.slice(), t.shape, null)])));
}
