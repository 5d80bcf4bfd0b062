import { autoBackendName, backendInfo, fastEnvironmentProblem, registeredBackends, setBackend } from '@ganpo/kernels';
import { ConfigError } from '../errors.js';

/** Sets the engine's backend: `auto` is the kernels package's choice (`fast` where registered, else `cpu`). */
export function selectBackend(name: string): { name: string; detail: string } {
  const chosen = name === 'auto' ? autoBackendName() : name;
  const known = registeredBackends();
  if (!known.includes(chosen)) {
    throw new ConfigError(`--backend ${chosen}: unknown backend`, [`registered backends: auto, ${known.join(', ')}`]);
  }
  const problem = chosen === 'fast' ? fastEnvironmentProblem() : null;
  if (problem) throw new ConfigError(problem);
  try {
    setBackend(chosen);
  } catch (e) {
    throw new ConfigError(`--backend ${chosen}: cannot start it here: ${(e as Error).message}`);
  }
  return backendInfo();
}
