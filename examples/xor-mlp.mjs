// A runnable tour of the engine: a 2-layer MLP learns XOR with plain gradient descent,
// written only with tensor ops and valueAndGrad. Run with `npm run example`.
import { Rng, matmul, randn, tensor, valueAndGrad, zeros, mean, logSigmoid, mul, sub, tanh, add } from '@ganpo/autograd';

const rng = Rng.seeded(7);
const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const y = tensor([[-1], [1], [1], [-1]]); // ±1 labels: loss = mean softplus(−y·logit)
let params = [randn([2, 8], rng, { std: 1 }), zeros([8]), randn([8, 1], rng, { std: 0.5 }), zeros([1])];

const loss = (w1, b1, w2, b2) => {
  const hidden = tanh(add(matmul(x, w1), b1));
  const logit = add(matmul(hidden, w2), b2);
  return mean(logSigmoid(mul(y, logit))).neg();
};

const step = valueAndGrad(loss);
for (let i = 0; i <= 400; i++) {
  const { value, grads } = step(...params);
  params = params.map((p, j) => sub(p, mul(grads[j], 0.5)).detach());
  if (i % 50 === 0) console.log(`step ${String(i).padStart(3)}  loss ${value.item().toFixed(4)}`);
}
const hidden = tanh(add(matmul(x, params[0]), params[1]));
const predictions = add(matmul(hidden, params[2]), params[3]).toFlat().map((v) => (v > 0 ? 1 : 0));
console.log(`XOR predictions for 00 01 10 11: ${predictions.join(' ')} (expected 0 1 1 0)`);
