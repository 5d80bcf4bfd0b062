import { describe, expect, it } from 'vitest';
import type { TestModule } from 'vitest/node';
import { closingText } from '../scripts/closing-line-reporter.js';

/** The closing output CI reads: counts, and every skipped test by name so none stops running unnoticed. */

const fakeModule = (moduleId: string, tests: [string, string][], state = 'passed'): TestModule =>
  ({
    moduleId,
    state: () => state,
    children: { allTests: () => tests.map(([fullName, s]) => ({ fullName, result: () => ({ state: s }) }))[Symbol.iterator]() },
  }) as unknown as TestModule;

describe('closing-line reporter', () => {
  it('counts passed, failed and skipped, and lists the skipped tests by name (repeats counted)', () => {
    const text = closingText(
      [
        fakeModule(`${process.cwd()}/tests/a.test.ts`, [['a > works', 'passed'], ['a > chromium screenshot', 'skipped'], ['a > breaks', 'failed']]),
        fakeModule(`${process.cwd()}/tests/b.test.ts`, [['b > gl parity', 'skipped'], ['b > gl parity', 'skipped'], ['b > todo', 'pending']]),
      ],
      [],
    );
    expect(text).toBe(
      '\nSkipped (4):\n  tests/a.test.ts > a > chromium screenshot\n  tests/b.test.ts > b > gl parity (×2)\n  tests/b.test.ts > b > todo\n\nTests: 1 passed, 1 failed, 4 skipped\n',
    );
  });

  it('a file that failed to load counts as a failure; the closing line stays last', () => {
    const text = closingText([fakeModule('x.test.ts', [], 'failed')], [new Error('unhandled')]);
    expect(text).toBe('\nTests: 0 passed, 2 failed\n');
  });
});
