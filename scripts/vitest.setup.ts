import fc from 'fast-check';

// Property tests are reproducible: one fixed seed unless FC_SEED asks for another.
// A failure prints its seed and path, so any run can be replayed exactly.
const seed = Number(process.env.FC_SEED ?? 20261128);
fc.configureGlobal({ seed, numRuns: Number(process.env.FC_NUM_RUNS ?? 50) });
