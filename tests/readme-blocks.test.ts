import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../packages/cli/src/program.js';
import vitestConfig from '../vitest.config.js';
import { ROOT } from './helpers/cli.js';
import { trackedFiles } from './helpers/markdown.js';
import { type CodeBlock, blockFile, tsBlocks, typeErrors, writeBlocks } from './helpers/readmeBlocks.js';
import { type ShellWorld, checkCommand, checkGanpo, shellCommands, shellWords, workspaceScripts } from './helpers/shellBlocks.js';

/**
 * The READMEs' and docs' code blocks cannot drift from the code (issue 16 §6). Blocks tagged `ts run` are
 * type-checked against the sources and executed; `ts check` blocks are type-checked; `bash check` blocks have
 * every command, subcommand, flag, npm script and tool checked against the program and the workspace. Each
 * README must carry at least one checked block.
 */

const DOCS = trackedFiles(ROOT).filter((f) => /(^|\/)README\.md$/.test(f) || /^docs\/.*\.md$/.test(f));
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');
const BLOCKS: CodeBlock[] = DOCS.flatMap((f) => tsBlocks(f, read(f)));
const COMMANDS = DOCS.flatMap((f) => shellCommands(f, read(f)));
/** Inside the repository (gitignored), so that vitest's aliases and the tsconfig paths apply to the blocks. */
const BLOCK_DIR = join(ROOT, 'tests/.readme-blocks');

/** A block with a mistyped option, type-checked in the same program as the real ones (one compilation). */
const [SELF_TEST] = tsBlocks('self-test.md', "# x\n\n```ts check\nimport { preferenceLoss } from '@ganpo/objectives';\npreferenceLoss('sigmoid', { bta: 0.1 });\n```\n");
let typeErrorsMemo: string[] | undefined;
/** Writes every block (and the self-test) and type-checks them together, once. */
function typeErrorsOfAll(): string[] {
  if (!typeErrorsMemo) {
    writeBlocks(BLOCK_DIR, [...BLOCKS, SELF_TEST]);
    typeErrorsMemo = typeErrors(ROOT, BLOCK_DIR, [...BLOCKS, SELF_TEST]);
  }
  return typeErrorsMemo;
}

const program = buildProgram({ stdout: process.stdout, stderr: process.stderr, env: {} }, () => {});
const world: ShellWorld = {
  root: ROOT,
  program,
  scripts: workspaceScripts(ROOT),
  vitestProjects: new Set((vitestConfig.test?.projects as { test: { name: string } }[]).map((p) => p.test.name)),
  turboTasks: new Set(Object.keys(JSON.parse(read('turbo.json')).tasks)),
};

describe('the checkers catch drift', () => {
  it('splits shell lines into words, dropping comments and keeping quoted text', () => {
    expect(shellWords(`ganpo sample --prompt "sort: d b" --n 3   # a comment`)).toEqual(['ganpo', 'sample', '--prompt', 'sort: d b', '--n', '3']);
  });

  it('rejects a ganpo command, subcommand flag or npm script that does not exist', () => {
    expect(checkGanpo(program, ['train', '--objective', 'ipo', '--no-ganpo'])).toEqual([]);
    expect(checkGanpo(program, ['data', 'validate', 'x.jsonl'])).toEqual([]);
    expect(checkGanpo(program, ['trian'])).toEqual(["ganpo has no command 'trian'"]);
    expect(checkGanpo(program, ['train', '--learning-rate', '1'])).toEqual(['`ganpo train` has no flag --learning-rate']);
    expect(checkGanpo(program, ['data', 'validate', '--objective', 'x'])).toEqual(['`ganpo data validate` has no flag --objective']);
    const [bad] = shellCommands('X.md', '```bash check\nnpm run no-such-script && npx vitest run --project nope\n```\n');
    expect(checkCommand(world, bad)).toEqual(["X.md:2: `npm run no-such-script`: the root package has no script 'no-such-script'"]);
    const commands = shellCommands('X.md', '```bash check\nnpm ci && npx vitest run --project nope\napt-get install x\n```\n');
    expect(commands.flatMap((c) => checkCommand(world, c))).toEqual([
      "X.md:2: `npx vitest run --project nope`: no vitest project 'nope'",
      expect.stringMatching(/^X\.md:3: `apt-get install x`: 'apt-get' is not a command this check knows/),
    ]);
  });

  it('reports a type error at its line in the markdown file', () => {
    expect(typeErrorsOfAll().filter((e) => e.startsWith(`${SELF_TEST.doc}:`))).toEqual([expect.stringMatching(/^self-test\.md:5: .*'bta'/)]);
  });
});

describe('README and docs code blocks', () => {
  beforeAll(() => void typeErrorsOfAll());

  it('every README carries at least one checked block', () => {
    const readmes = DOCS.filter((f) => f === 'README.md' || /^packages\/[^/]+\/README\.md$/.test(f));
    expect(readmes.length).toBeGreaterThanOrEqual(9);
    const checked = new Set([...BLOCKS.map((b) => b.doc), ...COMMANDS.map((c) => c.doc)]);
    expect(readmes.filter((f) => !checked.has(f))).toEqual([]);
  });

  it('`bash check` blocks name only commands, flags, scripts and tools that exist', () => {
    expect(COMMANDS.length).toBeGreaterThan(10);
    expect(COMMANDS.flatMap((c) => checkCommand(world, c))).toEqual([]);
  });

  it('`ts run` and `ts check` blocks type-check against the sources', () => {
    expect(BLOCKS.length).toBeGreaterThan(5);
    expect(typeErrorsOfAll().filter((e) => !e.startsWith(`${SELF_TEST.doc}:`))).toEqual([]);
  });

  describe('`ts run` blocks run', () => {
    const cwd = process.cwd();
    let scratch = '';
    beforeAll(() => {
      // Blocks may write files (checkpoints under runs/): they run in a scratch directory.
      scratch = mkdtempSync(join(tmpdir(), 'ganpo-readme-'));
      process.chdir(scratch);
      vi.spyOn(console, 'log').mockImplementation(() => {});
    });
    afterAll(() => {
      process.chdir(cwd);
      vi.restoreAllMocks();
    });
    for (const block of BLOCKS.filter((b) => b.mode === 'run')) {
      it(`${block.doc}:${block.line}`, async () => {
        await import(pathToFileURL(resolve(blockFile(BLOCK_DIR, block))).href);
      });
    }
  });
});
