export { type FormatOptions, type Problem, describeValue, formatErrors, problemsFromErrors, renderProblem, showValue } from './problems.js';
export { type Bounds, type RangeBrand, type RangedNumber, boundsText, inBounds, int, num, orString } from './numbers.js';
export { editDistance, propsOf, strict, suggest, unknownKeyReason, unknownKeys } from './keys.js';
export { type NonEmptyStringBrand, nonEmptyString, nullable, oneOf } from './basics.js';
export { type Validation, completed, decodeWith, problem, refineWith, validation } from './validation.js';
