import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base.js';

export default defineConfig([
  // The library: `import { train } from '@ganpo/cli'`; and `@ganpo/cli/browser`, the training core the web page uses.
  { ...libraryBuild, entry: ['src/index.ts', 'src/browser.ts'], clean: false },
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
