import { noGrad } from '@ganpo/autograd';
import type { Objective } from '@ganpo/objectives';

/** A loss term plus a metric holding its own value (so the parts of a sum are logged). */
export const withLossMetric =
  <A>(name: string, o: Objective<A>): Objective<A> =>
  (input) => {
    const t = o(input);
    return { loss: t.loss, metrics: { ...t.metrics, [name]: noGrad(() => t.loss.detach()) } };
  };
