// Forward and training-step time and peak memory at SmolLM2-135M's shape (random weights), full fine-tuning or
// LoRA, one mode per process so that the peak resident memory (maxRSS) belongs to that mode alone:
//
//   node packages/models/bench/smollm2-135m.mjs full      # or: lora, and optionally --layers N --pairs P --tokens T
//
// A step is what a DPO step does: the policy forward (logits and latents) and the reference forward (no tape),
// completion log-probs, the sigmoid DPO loss, backward, AdamW. (The GANPO discriminator's own cost is not part
// of it: it reads the same latents and is measured by `ganpo bench`.) Needs `npm run build` first.
// Both wall-clock and CPU seconds are printed: on a shared machine the wall clock mostly measures waiting for a
// core, while this process's CPU time is what a dedicated core would take (the engine runs on one thread).
import { AdamW, noGrad, logSigmoid, mul, sub, mean, neg } from '@ganpo/autograd';
import { backendInfo } from '@ganpo/kernels';
import { CausalLM, estimateTrainingMemory, freezeReference, sequenceLogps, splitPairs } from '@ganpo/models';

const args = process.argv.slice(2);
const mode = args[0] ?? 'lora';
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const layers = opt('layers', 30);
const pairs = opt('pairs', 4);
const tokens = opt('tokens', 256);
const steps = opt('steps', 2);

const config = {
  architecture: 'llama', vocabSize: 49152, contextLength: 8192, dModel: 576, nLayers: layers, nHeads: 9, nKvHeads: 3,
  dMlp: 1536, ropeTheta: 100000, layerNormEps: 1e-5, dropout: 0, tiedHead: true,
  lora: mode === 'lora' ? { r: 16, alpha: 32, dropout: 0, targets: ['q_proj', 'v_proj'] } : null,
};
const gib = (b) => (b / 2 ** 30).toFixed(2);
const rows = 2 * pairs;
const ids = Int32Array.from({ length: rows * tokens }, (_, i) => (i * 7919 + 13) % config.vocabSize);
const lossMask = Float32Array.from({ length: rows * tokens }, (_, i) => (i % tokens >= tokens / 2 ? 1 : 0));
const batch = { ids, attentionMask: new Float32Array(rows * tokens).fill(1), lossMask, rows, seqLen: tokens };

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
let t = performance.now();
let c = cpu();
const policy = new CausalLM(config, { seed: 0 });
const reference = freezeReference(policy);
const initSeconds = (performance.now() - t) / 1000;
const estimate = estimateTrainingMemory(policy.config, { pairs, seqLen: tokens });

policy.eval();
t = performance.now();
c = cpu();
noGrad(() => policy.forward(batch));
const forwardSeconds = (performance.now() - t) / 1000;
const forwardCpu = cpu() - c;

policy.train();
const optimizer = new AdamW(policy.namedParameters().filter(([, p]) => p.requiresGrad), { lr: 1e-5 });
const stepSeconds = [];
const stepCpu = [];
for (let s = 0; s < steps; s++) {
  t = performance.now();
  c = cpu();
  optimizer.zeroGrad();
  const out = policy.forward(batch);
  const p = splitPairs(sequenceLogps(out.logits, batch));
  const r = noGrad(() => splitPairs(sequenceLogps(reference.forward(batch).logits, batch)));
  const margin = mul(sub(sub(p.policyChosen, r.policyChosen), sub(p.policyRejected, r.policyRejected)), 0.1);
  const loss = mean(neg(logSigmoid(margin)));
  loss.backward();
  optimizer.step();
  stepSeconds.push((performance.now() - t) / 1000);
  stepCpu.push(cpu() - c);
}
const result = {
  mode, layers, pairs, tokens, backend: backendInfo().name,
  parameters: policy.parameterCount(),
  trainable: policy.namedParameters().filter(([, p]) => p.requiresGrad).reduce((n, [, p]) => n + p.size, 0),
  initSeconds: +initSeconds.toFixed(1),
  forwardSeconds: +forwardSeconds.toFixed(1),
  forwardCpuSeconds: +forwardCpu.toFixed(1),
  stepSeconds: stepSeconds.map((x) => +x.toFixed(1)),
  stepCpuSeconds: stepCpu.map((x) => +x.toFixed(1)),
  peakRssGiB: +gib(process.resourceUsage().maxRSS * 1024),
  estimateGiB: +gib(estimate.total),
};
console.log(JSON.stringify(result));
