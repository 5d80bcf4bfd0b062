import { expect, test } from 'vitest';
import { tensor } from '@ganpo/autograd';
import { type PairLogps, metricValues, namespaced, preferenceLoss, weighted } from './index.js';

// The README's example, as written there (imports aside).
test('README example', () => {
  const f64 = (v: number[]) => tensor(v, { dtype: 'float64' });
  const batch: PairLogps = {
    policyChosen: f64([-12.3, -40.1]).requireGrad(), // Σ log π over the completion tokens, [B]
    policyRejected: f64([-15.2, -38.4]).requireGrad(),
    refChosen: f64([-13.0, -39.0]), // the reference model's, [B]
    refRejected: f64([-14.1, -39.5]),
    chosenLengths: f64([5, 17]), // completion token counts, [B]
    rejectedLengths: f64([7, 15]),
  };

  // Plain DPO (TRL loss_type 'sigmoid').
  const dpo = preferenceLoss('sigmoid', { beta: 0.1 });
  const { loss, metrics } = dpo(batch);
  loss.backward(); // gradients into policyChosen / policyRejected
  const values = metricValues(metrics);

  // TRL's MPO recipe: loss_type = [sigmoid, bco_pair, sft], loss_weights = [0.8, 0.2, 1.0].
  const mpo = weighted([
    [0.8, preferenceLoss('sigmoid')],
    [0.2, namespaced('bco_pair', preferenceLoss('bco_pair'))], // its metrics become bco_pair/rewards/…
    [1.0, preferenceLoss('sft')], // reports nll_loss
  ]);
  const total = mpo(batch).loss;

  expect(Object.keys(values).sort()).toEqual(
    ['logps/chosen', 'logps/rejected', 'rewards/accuracies', 'rewards/chosen', 'rewards/margins', 'rewards/rejected'],
  );
  // h = (0.7, −1.1) − (−1.1, 1.1) = (1.8, −2.2): one pair right, one wrong.
  expect(values['rewards/accuracies']).toBe(0.5);
  expect(values['rewards/margins']).toBeCloseTo(0.1 * (1.8 - 2.2) / 2, 12);
  expect(batch.policyChosen.grad).not.toBeNull();
  const parts = ['sigmoid', 'bco_pair', 'sft'].map((n) => preferenceLoss(n as 'sigmoid')(batch).loss.item());
  expect(total.item()).toBeCloseTo(0.8 * parts[0] + 0.2 * parts[1] + parts[2], 12);
});
