/** A configuration that cannot work (an option out of range, or one the loss does not read); thrown when an objective is built. */
export class ObjectiveConfigError extends Error {
  override name = 'ObjectiveConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/** Inputs that do not fit the objective (a missing tensor, a shape mismatch, NaN log-probs); thrown on the first call. */
export class ObjectiveInputError extends Error {
  override name = 'ObjectiveInputError';
}
