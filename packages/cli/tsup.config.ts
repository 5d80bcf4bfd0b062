import { defineConfig } from 'tsup';

export default defineConfig([
  // The library: `import { train } from '@ganpo/cli'`.
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
  },
  // The `ganpo` executable (package.json "bin"): ESM with a shebang; the @ganpo/* packages stay external.
  {
    entry: ['src/bin.ts'],
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
