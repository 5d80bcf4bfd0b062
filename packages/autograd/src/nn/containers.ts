import { Module } from './module.js';

/**
 * An indexed list of sub-modules (torch.nn.ModuleList): child i is registered under the name "i", so parameter
 * paths read "blocks.0.attn.q.weight". It has no forward of its own; iterate over it.
 */
export class ModuleList<M extends Module = Module> extends Module implements Iterable<M> {
  private readonly items: M[] = [];

  constructor(modules: readonly M[] = []) {
    super();
    for (const m of modules) this.push(m);
  }

  push(module: M): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items.at(i);
    if (!m) throw new Error(`ModuleList: index ${i} out of range (length ${this.items.length})`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
