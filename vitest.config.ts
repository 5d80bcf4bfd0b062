import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import every @ganpo/* package from its TypeScript source, so `npm test` needs no build.
const packages = ['codecs', 'kernels', 'autograd', 'objectives', 'adversarial', 'datasets', 'models', 'cli'];
const alias = Object.fromEntries([
  // Subpath entries first: an alias also matches as a prefix.
  ['@ganpo/cli/browser', fileURLToPath(new URL('./packages/cli/src/browser.ts', import.meta.url))],
  ...packages.map((p) => [`@ganpo/${p}`, fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url))]),
]);

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', './scripts/closing-line-reporter.ts'],
    setupFiles: ['./scripts/vitest.setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, include: [`packages/${name}/src/**/*.test.ts`] },
      })),
      { extends: true as const, test: { name: 'tests', include: ['tests/**/*.test.ts'] } },
    ],
  },
});
