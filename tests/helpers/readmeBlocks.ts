import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { fencedBlocks } from './markdown.js';

/**
 * The TypeScript code blocks of the READMEs and docs that are tagged to be checked:
 * - ```` ```ts run ````: type-checked against the packages' sources, then executed;
 * - ```` ```ts check ````: type-checked only (examples that need a user's data file, a GPU or a long run).
 * Untagged blocks (fragments, output samples) are documentation only. Each block is its own module: it imports
 * what it uses from `@ganpo/*`, which resolves to the TypeScript sources (tsconfig.base.json's paths, vitest's
 * aliases), so a README cannot drift from the code it describes.
 */

export type BlockMode = 'run' | 'check';

export interface CodeBlock {
  readonly doc: string;
  /** 1-based line of the opening fence in `doc`. */
  readonly line: number;
  readonly mode: BlockMode;
  readonly code: string;
}

const TS_TAG = /^(?:ts|typescript)\s+(run|check)$/;

export function tsBlocks(doc: string, source: string): CodeBlock[] {
  return fencedBlocks(source).flatMap((b) => {
    const m = TS_TAG.exec(b.info);
    return m ? [{ doc, line: b.line, mode: m[1] as BlockMode, code: b.content }] : [];
  });
}

/** Where a block is written to be compiled and imported (a gitignored folder inside the repository). */
export const blockFile = (dir: string, b: CodeBlock) => join(dir, `${b.doc.replace(/[/.]/g, '_')}_L${b.line}.ts`);

/** Writes the blocks as module files (`export {}` keeps each in its own scope) into a fresh `dir`. */
export function writeBlocks(dir: string, blocks: readonly CodeBlock[]): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const b of blocks) writeFileSync(blockFile(dir, b), `${b.code}\nexport {};\n`);
}

/**
 * Type errors of the written blocks, as `README.md:LINE: message` (the line inside the markdown file). One
 * program over all blocks, with the repository's compiler options.
 */
export function typeErrors(root: string, dir: string, blocks: readonly CodeBlock[]): string[] {
  const configPath = join(root, 'tsconfig.base.json');
  const { config } = ts.readConfigFile(configPath, (p) => readFileSync(p, 'utf8'));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
  const files = blocks.map((b) => blockFile(dir, b));
  const program = ts.createProgram(files, { ...options, noEmit: true, declaration: false });
  return blocks.flatMap((b, i) => {
    const sf = program.getSourceFile(files[i]);
    if (!sf) return [`${b.doc}:${b.line}: the block could not be compiled`];
    return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => {
      const at = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start).line : 0;
      return `${b.doc}:${b.line + 1 + at}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  });
}
