import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

/*
 * The library packages the web page uses, bundled for the browser from their browser entry points
 * (esbuild, platform browser, minified): each bundles without any Node built-in (esbuild fails on one),
 * and stays within its size budget. The sizes are in apps/web/README.md; this prints them.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const BROWSER_ENTRY: Record<string, string> = {
  kernels: 'packages/kernels/src/browser.ts',
  autograd: 'packages/autograd/src/index.ts',
  objectives: 'packages/objectives/src/index.ts',
  adversarial: 'packages/adversarial/src/index.ts',
  datasets: 'packages/datasets/src/browser.ts',
  models: 'packages/models/src/browser.ts',
  // `ganpo train`'s training core (@ganpo/cli/browser): the page trains with it.
  cli: 'packages/cli/src/browser.ts',
};

/** Where @ganpo/* imports resolve: the packages above, and @ganpo/codecs (browser-safe; bundled with the packages that decode configuration). */
const RESOLVED_ENTRY: Record<string, string> = { ...BROWSER_ENTRY, 'cli/browser': BROWSER_ENTRY.cli, codecs: 'packages/codecs/src/index.ts' };

/** @ganpo/* imports resolve to the sibling package's browser entry (its TypeScript source); gpu.js to its browser build. */
const browserEntries: Plugin = {
  name: 'ganpo-browser-entries',
  setup(b) {
    b.onResolve({ filter: /^@ganpo\// }, (args) => ({ path: `${root}${RESOLVED_ENTRY[args.path.slice('@ganpo/'.length)]}` }));
  },
};

/** Minified bytes of `entry` bundled for the browser, each @ganpo package but `own` left external when `alone`. */
async function bundledBytes(name: string, alone: boolean): Promise<number> {
  const result = await build({
    entryPoints: [`${root}${BROWSER_ENTRY[name]}`],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
    plugins: alone ? [] : [browserEntries],
    external: alone ? ['@ganpo/*', 'gpu.js'] : [],
  });
  return result.outputFiles[0].contents.length;
}

// Budgets: today's sizes plus headroom; the page loads all of them (plus gpu.js, ~640 kB minified).
const BUDGET_KB: Record<string, number> = { kernels: 90, autograd: 65, objectives: 100, adversarial: 95, datasets: 160, models: 85, cli: 110 };

describe('browser bundles of the library packages', () => {
  const sizes: Record<string, number> = {};
  for (const name of Object.keys(BROWSER_ENTRY)) {
    it(`${name} bundles for the browser with no Node built-in, within ${BUDGET_KB[name]} kB minified (own code and its npm dependencies)`, async () => {
      sizes[name] = await bundledBytes(name, true);
      expect(sizes[name]).toBeLessThan(BUDGET_KB[name] * 1024);
    });
  }
  it('all seven together (what the page imports, gpu.js included) bundle for the browser', async () => {
    const names = Object.keys(BROWSER_ENTRY);
    const result = await build({
      stdin: { contents: `${names.map((n) => `import * as ${n} from '@ganpo/${n}';`).join('\n')}\nexport { ${names.join(', ')} };`, resolveDir: root, loader: 'ts' },
      bundle: true, write: false, minify: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'silent', plugins: [browserEntries],
    });
    const all = result.outputFiles[0].contents.length;
    console.log(`browser bundle sizes (minified bytes): ${JSON.stringify(sizes)}; all seven with their npm dependencies and gpu.js: ${all}`);
    expect(all).toBeLessThan(1400 * 1024);
  }, 60_000);
});
