import type { Options } from 'tsup';

/** The build every library package shares: ESM + CJS + .d.ts from src/index.ts, for Node 20. */
export const libraryBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
};
