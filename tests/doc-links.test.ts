import { describe, expect, it } from 'vitest';
import { checkRepository, renderProblem, repoOf } from './helpers/docLinks.js';
import { ROOT } from './helpers/cli.js';
import { trackedFiles } from './helpers/markdown.js';

/**
 * The documentation and the code comments point only inside the repository (issue 15): a clone and the npm
 * tarballs contain nothing else. The checker is first shown to catch each kind of bad reference on a small
 * in-memory repository, then run over every tracked file.
 */

/** An in-memory repository: file name → content. */
function fakeRepo(files: Record<string, string>) {
  const names = Object.keys(files);
  const repo = repoOf('/repo', names, (f) => {
    if (!(f in files)) throw new Error(`no file ${f}`);
    return files[f];
  });
  return checkRepository(repo, names).map(renderProblem);
}

// Written in pieces so that this file does not itself contain the references it tests.
const SHARED = ['..', 'shared'].join('/');

describe('the link checker', () => {
  it('accepts links and comments that name files and headings of the repository', () => {
    expect(
      fakeRepo({
        'README.md': '# Top\n[method](docs/method.md#2-the-latents), [pkg](packages/a), [self](#top), [web](https://example.org)\n',
        'docs/method.md': '# Method\n## 2. The latents\nBack to the [README](../README.md).\n',
        'packages/a/README.md': 'See [the method](../../docs/method.md).\n',
        'packages/a/src/x.ts': '// docs/method.md §2; see README.md; writes report.md at run time\n',
      }),
    ).toEqual([]);
  });

  it('rejects links into the shared folder beside a checkout, links that climb out of the repository, missing files and missing anchors', () => {
    const problems = fakeRepo({
      'README.md': `[design](${SHARED}/DESIGN.md)\n\n[up](../outside.md)\n\n[gone](docs/missing.md)\n\n[anchor](docs/method.md#no-such-heading)\n`,
      'docs/method.md': '# Method\n',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^README\.md:1: .*DESIGN\.md: points outside the repository/),
      expect.stringMatching(/^README\.md:3: \.\.\/outside\.md: points outside the repository/),
      expect.stringMatching(/^README\.md:5: docs\/missing\.md: no such file/),
      expect.stringMatching(/^README\.md:7: docs\/method\.md#no-such-heading: no heading/),
    ]);
  });

  it('rejects comments that cite documents outside the repository or missing ones', () => {
    const problems = fakeRepo({
      'packages/a/src/x.ts': `// see ${SHARED}/GANPO.md §4\n/** the formulas of ${['OBJECTIVES', 'md'].join('.')} */\n// docs/gone.md\n`,
    });
    expect(problems).toEqual([
      expect.stringMatching(/^packages\/a\/src\/x\.ts:1: .*points outside the repository/),
      expect.stringMatching(/^packages\/a\/src\/x\.ts:2: OBJECTIVES\.md: no such file/),
      expect.stringMatching(/^packages\/a\/src\/x\.ts:3: docs\/gone\.md: no such file/),
    ]);
  });
});

describe('the repository', () => {
  it('has no markdown link or code comment pointing outside it or to a missing file', () => {
    // The checker and the suites that test checkers name bad references on purpose.
    const examples = new Set(['tests/doc-links.test.ts', 'tests/helpers/docLinks.ts', 'tests/readme-blocks.test.ts']);
    const files = trackedFiles(ROOT).filter((f) => !examples.has(f));
    expect(files.length).toBeGreaterThan(100);
    expect(checkRepository(repoOf(ROOT, files), files).map(renderProblem)).toEqual([]);
  });
});
