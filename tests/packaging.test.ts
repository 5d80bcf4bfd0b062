import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

/**
 * What `npm publish` would ship (issue 16 §6): each package depends on its siblings by a real version range, builds
 * before packing, exports ESM and CJS with their own declarations, and its tarball holds only the build, the README
 * and what its `files` name on purpose (the CLI's bin and scripts). The tarball list comes from
 * `npm pack --dry-run --ignore-scripts` (no build, no files written).
 */

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  files?: string[];
  scripts?: Record<string, string>;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  workspaces?: string[];
}

const read = (dir: string): Manifest => JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
const workspaces = read('.').workspaces ?? [];
const manifests = workspaces.map((dir) => ({ dir, pkg: read(dir) }));
const published = manifests.filter((m) => !m.pkg.private);
const versionOf = new Map(manifests.map((m) => [m.pkg.name, m.pkg.version]));

describe('package manifests', () => {
  it('there are packages to check', () => {
    expect(published.map((m) => m.pkg.name)).toContain('@ganpo/codecs');
    expect(published.length).toBeGreaterThanOrEqual(8);
  });

  it('depend on their siblings by a caret range of the sibling version, never "*"', () => {
    const bad = manifests.flatMap(({ pkg }) =>
      Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })
        .filter(([dep]) => versionOf.has(dep))
        .filter(([dep, range]) => range !== `^${versionOf.get(dep)}`)
        .map(([dep, range]) => `${pkg.name} → ${dep}@${range}`),
    );
    expect(bad).toEqual([]);
  });

  it('build before packing, and export ESM and CJS entry points with their own declarations from dist/', () => {
    // Conditions may nest (a browser or node condition around import/require): every target is looked at.
    const targets = (u: unknown, conditions: string[] = []): { conditions: string[]; path: string }[] =>
      typeof u === 'string' ? [{ conditions, path: u }] : Object.entries(u as object).flatMap(([k, v]) => targets(v, [...conditions, k]));
    for (const { pkg } of published) {
      expect(pkg.scripts?.prepack, pkg.name).toMatch(/build/);
      const root = targets(pkg.exports?.['.']);
      expect(root.filter((t) => !t.path.startsWith('./dist/')), pkg.name).toEqual([]);
      const esm = root.filter((t) => t.conditions.includes('import'));
      const cjs = root.filter((t) => t.conditions.includes('require'));
      expect(esm.some((t) => t.conditions.includes('types') && t.path.endsWith('.d.ts')) && esm.some((t) => t.path.endsWith('.js')), pkg.name).toBe(true);
      expect(cjs.some((t) => t.conditions.includes('types') && t.path.endsWith('.d.cts')) && cjs.some((t) => t.path.endsWith('.cjs')), pkg.name).toBe(true);
    }
  });

  it('ship only the build, the README and what `files` names on purpose', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', ...published.flatMap((m) => ['-w', m.pkg.name])], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const tarballs = JSON.parse(out) as { name: string; files: { path: string }[] }[];
    expect(tarballs.map((t) => t.name).sort()).toEqual(published.map((m) => m.pkg.name).sort());
    for (const t of tarballs) {
      const files = published.find((m) => m.pkg.name === t.name)!.pkg.files ?? [];
      const allowed = (path: string) => path === 'package.json' || path === 'README.md' || path.startsWith('dist/') || files.some((f) => path.startsWith(`${f}/`));
      expect(t.files.map((f) => f.path).filter((p) => !allowed(p)), t.name).toEqual([]);
      expect(t.files.some((f) => f.path.startsWith('src/')), t.name).toBe(false);
    }
  });
});
