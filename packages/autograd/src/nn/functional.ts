import { formatShape } from '@ganpo/kernels';
import type { Tensor } from '../tensor.js';
import type { Module } from './module.js';

/**
 * Runs `fn` with some of `module`'s parameters (or buffers) replaced by the given tensors, then restores them
 * (torch.func.functional_call). This turns a module into a function of its parameters, which is what
 * `gradcheck`, `gradients` with respect to substitute weights, or per-example tricks need.
 *
 * The substitution works through the module's own fields: a parameter registered under the name `weight` must
 * be held in the field `weight` of the module that registered it (true of every module in `nn/`). A path whose
 * field does not hold the registered tensor throws rather than being silently ignored. Shapes must match.
 */
export function functionalCall<T>(module: Module, replacements: Readonly<Record<string, Tensor>>, fn: () => T): T {
  const current = new Map([...module.namedParameters(), ...module.namedBuffers()]);
  const restore: (() => void)[] = [];
  try {
    for (const [path, value] of Object.entries(replacements)) {
      const old = current.get(path);
      if (!old) throw new Error(`functionalCall: no parameter or buffer named ${path}`);
      if (old.rank !== value.rank || old.shape.some((d, i) => d !== value.shape[i])) {
        throw new Error(`functionalCall: ${path} has shape ${formatShape(old.shape)}, replacement ${formatShape(value.shape)}`);
      }
      const [owner, field] = ownerOf(module, path);
      const holder = owner as unknown as Record<string, unknown>;
      if (holder[field] !== old) {
        throw new Error(`functionalCall: ${path} is not held in the field '${field}' of its module; it cannot be substituted`);
      }
      holder[field] = value;
      restore.push(() => {
        holder[field] = old;
      });
    }
    return fn();
  } finally {
    for (const undo of restore.reverse()) undo();
  }
}

function ownerOf(module: Module, path: string): [Module, string] {
  const parts = path.split('.');
  let m = module;
  for (const part of parts.slice(0, -1)) {
    const child = m.namedChildren().find(([n]) => n === part);
    if (!child) throw new Error(`functionalCall: no sub-module ${part} on the way to ${path}`);
    m = child[1];
  }
  return [m, parts[parts.length - 1]];
}
