import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the closing line CI reads, `Tests: N passed, N failed`, from vitest's own per-test results.
 * Skipped and todo tests are counted separately and shown after the two numbers, and listed by name just before
 * the closing line (file > suite > test), so a test that silently stopped running shows up in every CI log.
 */
export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    process.stdout.write(closingText(testModules, unhandledErrors));
  }
}

/** The list of skipped tests (by name, with a count when a name repeats) and the closing line. */
export function closingText(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): string {
  let passed = 0;
  let failed = 0;
  const skipped = new Map<string, number>();
  for (const module of testModules) {
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') passed++;
      else if (state === 'failed') failed++;
      else {
        const name = `${module.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}`;
        skipped.set(name, (skipped.get(name) ?? 0) + 1);
      }
    }
    // A file that failed to load has no tests to count: count it as one failure so it cannot pass silently.
    if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
  }
  failed += unhandledErrors.length;
  const nSkipped = [...skipped.values()].reduce((a, b) => a + b, 0);
  const names = [...skipped].map(([name, n]) => `  ${name}${n > 1 ? ` (×${n})` : ''}`);
  const list = nSkipped > 0 ? `\nSkipped (${nSkipped}):\n${names.join('\n')}\n` : '';
  const tail = nSkipped > 0 ? `, ${nSkipped} skipped` : '';
  return `${list}\nTests: ${passed} passed, ${failed} failed${tail}\n`;
}
