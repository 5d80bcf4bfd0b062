/**
 * The io-ts building blocks of the run configuration come from @ganpo/codecs, shared with every package: ranged
 * numbers, enums, strict objects that name unknown keys (with a "did you mean"), and the one error formatter
 * ("path: expected …, got …"). This module only gives them the CLI's names.
 */
export {
  type Problem as ConfigProblem, int, nonEmptyString, nullable, num, oneOf, problemsFromErrors, renderProblem as formatProblem, strict,
  suggest, unknownKeys,
} from '@ganpo/codecs';
