import { type OptimizerStateDict, Tensor } from '@ganpo/autograd';
import { GanpoConfig as GanpoConfigCodec, type GanpoConfig } from './config.js';
import { Ganpo } from './ganpo.js';
import type { GanpoMeans } from './means.js';

/**
 * Saving and restoring a {@link Ganpo} regularizer: discriminator parameters and buffers, AdamW moments, running
 * means, step count and the discriminators' dropout streams, so that training resumes bit for bit.
 */

/** JSON part of a saved GANPO state. */
export interface GanpoStateMeta {
  readonly format: 'ganpo-adversarial/1';
  readonly config: GanpoConfig;
  readonly latentDim: number;
  readonly step: number;
  readonly means: GanpoMeans | null;
  readonly optimizers: Record<string, Omit<OptimizerStateDict, 'params'> & { params: Record<string, { step: number }> }>;
  /** States of the random streams held by the discriminators' modules (dropout), by path. */
  readonly rngs: Record<string, Record<string, number[]>>;
}

/** A GANPO state as named tensors (discriminator parameters and buffers, optimizer moments) plus JSON. */
export interface GanpoStateDict {
  readonly tensors: Record<string, Tensor>;
  readonly meta: GanpoStateMeta;
}

const copyTensor = (t: Tensor): Tensor => new Tensor(t.data.slice(), t.shape, null);

/**
 * Everything needed to resume exactly: discriminator parameters and buffers (`chosen.*`, `rejected.*`), AdamW
 * moments (`optim.chosen.<param>.m|v`), and as JSON the configuration, step, means, optimizer counters and learning
 * rates, and the dropout streams. Tensors are copies.
 */
export function ganpoStateDict(ganpo: Ganpo): GanpoStateDict {
  const tensors: Record<string, Tensor> = {};
  const optimizers: GanpoStateMeta['optimizers'] = {};
  const rngs: GanpoStateMeta['rngs'] = {};
  for (const { spec, discriminator, optimizer } of ganpo.sides) {
    const side = spec.name;
    for (const [name, t] of Object.entries(discriminator.stateDict())) tensors[`${side}.${name}`] = copyTensor(t);
    const sd = optimizer.stateDict();
    const params: Record<string, { step: number }> = {};
    optimizer.names.forEach((name, i) => {
      const entry = sd.params[name];
      params[name] = { step: entry.step };
      for (const [slot, buf] of Object.entries(entry.slots)) tensors[`optim.${side}.${name}.${slot}`] = new Tensor(buf.slice(), optimizer.params[i].shape, null);
    });
    optimizers[side] = { transform: sd.transform, config: sd.config, lr: sd.lr, step: sd.step, params };
    rngs[side] = discriminator.rngStateDict();
  }
  const meta: GanpoStateMeta = {
    format: 'ganpo-adversarial/1',
    config: GanpoConfigCodec.encode(ganpo.config),
    latentDim: ganpo.latentDim,
    step: ganpo.step,
    means: ganpo.means ?? null,
    optimizers,
    rngs,
  };
  return { tensors, meta: JSON.parse(JSON.stringify(meta)) as GanpoStateMeta };
}

/** Rebuilds a regularizer from `ganpoStateDict` output (after, e.g., a round trip through a checkpoint file). */
export function loadGanpoState(dict: GanpoStateDict): Ganpo {
  const { meta, tensors } = dict;
  if (meta.format !== 'ganpo-adversarial/1') throw new Error(`loadGanpoState: unknown format '${String(meta.format)}'`);
  const ganpo = Ganpo.restored(meta.config, meta.latentDim, meta.means ?? undefined, meta.step);
  const used = new Set<string>();
  for (const { spec, discriminator, optimizer } of ganpo.sides) {
    const side = spec.name;
    const own = Object.fromEntries(
      Object.entries(tensors)
        .filter(([k]) => k.startsWith(`${side}.`))
        .map(([k, t]) => {
          used.add(k);
          return [k.slice(side.length + 1), t];
        }),
    );
    discriminator.loadStateDict(own);
    const om = meta.optimizers[side];
    if (!om) throw new Error(`loadGanpoState: no optimizer state for the ${side} discriminator`);
    const params: OptimizerStateDict['params'] = {};
    for (const [name, { step }] of Object.entries(om.params)) {
      const slots: Record<string, Tensor['data']> = {};
      for (const slot of optimizer.transform.slotNames) {
        const key = `optim.${side}.${name}.${slot}`;
        const t = tensors[key];
        if (!t) throw new Error(`loadGanpoState: missing ${key}`);
        used.add(key);
        slots[slot] = t.data;
      }
      params[name] = { step, slots };
    }
    optimizer.loadStateDict({ transform: om.transform, config: om.config, lr: om.lr, step: om.step, params });
    discriminator.loadRngStateDict(meta.rngs[side] ?? {});
  }
  const unexpected = Object.keys(tensors).filter((k) => !used.has(k));
  if (unexpected.length > 0) throw new Error(`loadGanpoState: unexpected tensors ${unexpected.join(', ')}`);
  return ganpo;
}
