// The gpu.js parity suite in 'cpu' mode (see parity-suite.ts for what runs and when it is skipped).
import { paritySuite } from './parity-suite.js';

paritySuite('cpu');
