export { Tensor, type TensorLike, type NestedNumbers, isTensor, TENSOR_BRAND } from './tensor.js';
export {
  noGrad, withGradEnabled, isGradEnabled, setAnomalyMode, isAnomalyMode, withAnomalyMode, AnomalyError,
  gradients, backward, grad, valueAndGrad, vjp, customOp, type Node, type GradientOptions, type ValueAndGrad,
} from './engine.js';
export * from './creation.js';
export * from './ops/index.js';
export { gradcheck, gradgradcheck, GradcheckError, type GradcheckOptions } from './gradcheck.js';
export { Rng } from './rng.js';
export type { DType, Shape } from '@ganpo/kernels';
export { getBackend, setBackend, withBackend, registeredBackends } from '@ganpo/kernels';
export * from './nn/index.js';
export * from './optim/index.js';
