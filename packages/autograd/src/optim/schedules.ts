/**
 * Learning-rate schedules: functions from the step index to a learning rate. The step is counted from 0:
 * schedule(k) is the rate of the (k+1)-th update (`Optimizer` with `{ schedule }` calls schedule(stepCount)
 * before each update). The formulas are those of Hugging Face transformers' get_*_schedule_with_warmup,
 * which TRL uses: during warmup the rate is lr·k/warmupSteps, so the very first update (k = 0) has rate 0
 * unless warmupSteps = 0. After totalSteps the decaying schedules stay at minLr.
 */
export type Schedule = (step: number) => number;

export function constantSchedule(lr: number): Schedule {
  return () => lr;
}

export interface WarmupConfig {
  lr: number;
  warmupSteps: number;
}

export interface DecayConfig extends WarmupConfig {
  totalSteps: number;
  /** Floor reached at totalSteps (default 0). */
  minLr?: number;
}

function validate(name: string, c: Partial<DecayConfig>): void {
  const bad = (what: string) => {
    throw new Error(`${name}: ${what}`);
  };
  if (!(c.lr !== undefined && c.lr >= 0)) bad(`lr = ${c.lr} must be ≥ 0`);
  if (!(c.warmupSteps !== undefined && Number.isInteger(c.warmupSteps) && c.warmupSteps >= 0)) bad(`warmupSteps = ${c.warmupSteps} must be an integer ≥ 0`);
  if (c.totalSteps !== undefined && !(Number.isInteger(c.totalSteps) && c.totalSteps >= (c.warmupSteps ?? 0))) {
    bad(`totalSteps = ${c.totalSteps} must be an integer ≥ warmupSteps`);
  }
  if (c.minLr !== undefined && !(c.minLr >= 0 && c.minLr <= (c.lr ?? 0))) bad(`minLr = ${c.minLr} must be in [0, lr]`);
}

/** lr·k/warmupSteps for k < warmupSteps, then lr (HF get_constant_schedule_with_warmup). */
export function linearWarmup(config: WarmupConfig): Schedule {
  validate('linearWarmup', config);
  const { lr, warmupSteps } = config;
  return (k) => (k < warmupSteps ? (lr * k) / warmupSteps : lr);
}

/**
 * Warmup as linearWarmup, then cosine decay from lr to minLr over [warmupSteps, totalSteps]:
 * p = (k − warmupSteps)/(totalSteps − warmupSteps) clamped to [0, 1], rate = minLr + (lr − minLr)·½(1 + cos πp)
 * (HF get_cosine_schedule_with_warmup with half a cycle, and its min-lr variant; clamped after totalSteps).
 */
export function cosineWithWarmup(config: DecayConfig): Schedule {
  validate('cosineWithWarmup', config);
  const { lr, warmupSteps, totalSteps, minLr = 0 } = config;
  return (k) => {
    if (k < warmupSteps) return (lr * k) / warmupSteps;
    if (k >= totalSteps) return minLr;
    const p = Math.min(Math.max((k - warmupSteps) / Math.max(1, totalSteps - warmupSteps), 0), 1);
    return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
  };
}

/**
 * Warmup as linearWarmup, then linear decay from lr to minLr over [warmupSteps, totalSteps]:
 * rate = minLr + (lr − minLr)·(totalSteps − k)/(totalSteps − warmupSteps), minLr from totalSteps on
 * (HF get_linear_schedule_with_warmup when minLr = 0).
 */
export function linearWithWarmup(config: DecayConfig): Schedule {
  validate('linearWithWarmup', config);
  const { lr, warmupSteps, totalSteps, minLr = 0 } = config;
  return (k) => {
    if (k < warmupSteps) return (lr * k) / warmupSteps;
    if (k >= totalSteps) return minLr;
    const frac = Math.max(0, (totalSteps - k) / Math.max(1, totalSteps - warmupSteps));
    return minLr + (lr - minLr) * Math.min(frac, 1);
  };
}
