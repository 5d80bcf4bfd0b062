import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { markdownAnchors, markdownLinks } from './markdown.js';

/**
 * Checks that the documentation stays inside the repository: every relative link in a markdown file, and every
 * markdown path a source file mentions (comments, help texts), must name a file of the repository. A clone and the
 * npm tarballs have nothing outside it, so a path into the shared folder beside the checkout, or a path that climbs above the root is an error, as is
 * a link to a missing file or to a heading that does not exist.
 */

export interface LinkProblem {
  readonly file: string;
  readonly line: number;
  readonly target: string;
  readonly problem: string;
}

export const renderProblem = (p: LinkProblem): string => `${p.file}:${p.line}: ${p.target}: ${p.problem}`;

const SOURCE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.wat', '.sh', '.json', '.yml', '.yaml']);
const isSource = (file: string) => SOURCE_EXTENSIONS.has(extname(file)) || file === '.ci/run';

/** A link with a scheme (https:, mailto:) or protocol-relative: not a repository path. */
const isExternal = (href: string) => /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//');

/** A path that names a folder outside the repository the project was written next to. */
const OUTSIDE_WORDS = /(^|[^\w.])\.\.\/shared\b|(^|[\s`'"(])shared\/[\w.-]+\.md\b/;

interface Repo {
  readonly root: string;
  /** Tracked files and their parent directories, relative, with '/' separators. */
  readonly paths: ReadonlySet<string>;
  readonly read: (file: string) => string;
}

export function repoOf(root: string, files: readonly string[], read = (f: string) => readFileSync(join(root, f), 'utf8')): Repo {
  const paths = new Set<string>();
  for (const f of files) {
    paths.add(f);
    for (let d = dirname(f); d !== '.'; d = dirname(d)) paths.add(d);
  }
  return { root, paths, read };
}

/** `target` resolved from the directory `fromDir` (repository-relative), or why it cannot be. */
function resolveInRepo(repo: Repo, fromDir: string, target: string): { path: string } | { problem: string } {
  if (isAbsolute(target)) return { problem: 'an absolute path (a clone has no such file; use a path relative to this file)' };
  const abs = resolve(repo.root, fromDir, target);
  const rel = relative(repo.root, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) return { problem: 'points outside the repository' };
  return { path: rel.split(sep).join('/') || '.' };
}

function checkTarget(repo: Repo, file: string, line: number, href: string, anchors: (f: string) => Set<string>): LinkProblem[] {
  const [pathPart, anchor] = href.split('#', 2) as [string, string | undefined];
  const problem = (p: string): LinkProblem[] => [{ file, line, target: href, problem: p }];
  if (OUTSIDE_WORDS.test(` ${pathPart}`)) return problem('points outside the repository (the shared folder beside a checkout is not part of a clone)');
  let target = file;
  if (pathPart !== '') {
    const r = resolveInRepo(repo, dirname(file), decodeURI(pathPart));
    if ('problem' in r) return problem(r.problem);
    if (r.path !== '.' && !repo.paths.has(r.path.replace(/\/$/, ''))) return problem('no such file in the repository');
    target = r.path;
  }
  if (anchor && target.endsWith('.md') && !anchors(target).has(decodeURIComponent(anchor).toLowerCase())) {
    return problem(`no heading with the anchor #${anchor} in ${target}`);
  }
  return [];
}

/** Problems of every relative link of one markdown file. */
export function checkMarkdown(repo: Repo, file: string, anchors: (f: string) => Set<string>): LinkProblem[] {
  return markdownLinks(repo.read(file))
    .filter((l) => !isExternal(l.href))
    .flatMap((l) => checkTarget(repo, file, l.line, l.href, anchors));
}

/** A markdown path written in source text: `docs/method.md`, `../README.md`, `packages/cli/README.md#flags`. */
const MARKDOWN_PATH = /(?<![\w./-])((?:\.{1,2}\/)*[\w-][\w.-]*(?:\/[\w.-]+)*\.md)(#[\w-]+)?(?![\w/])/g;

/**
 * Whether a markdown path in source text names a document of the repository: a path with a directory, or an
 * upper-case name (`README.md`, `CHANGELOG.md`). A bare lower-case name (`report.md`) is a file the program writes,
 * `RUN_FILES.md` a property, and `OUT/report.md` a placeholder of a help text.
 */
const isDocumentPath = (path: string) =>
  path.includes('/') ? !/^[A-Z_]+\//.test(path) : /^[A-Z][A-Z0-9-]*\.md$/.test(path);

/**
 * Problems of the markdown paths one source file mentions. A bare path is looked up from the repository root, the
 * file's own directory and its package directory (`README.md` in a package means that package's README); one
 * starting with `./` or `../` only from the file's directory.
 */
export function checkSource(repo: Repo, file: string, anchors: (f: string) => Set<string>): LinkProblem[] {
  const problems: LinkProblem[] = [];
  repo.read(file).split('\n').forEach((text, i) => {
    const line = i + 1;
    if (OUTSIDE_WORDS.test(text)) {
      problems.push({ file, line, target: text.trim().slice(0, 80), problem: 'points outside the repository (the shared folder beside a checkout is not part of a clone)' });
      return;
    }
    for (const m of text.matchAll(MARKDOWN_PATH)) {
      const [, path, anchor = ''] = m;
      if (!isDocumentPath(path)) continue;
      const pkg = /^packages\/[^/]+/.exec(file)?.[0];
      const bases = path.startsWith('.') ? [dirname(file)] : ['.', dirname(file), ...(pkg ? [pkg] : [])];
      const results = bases.map((b) => checkTarget(repo, file, line, `${relative(dirname(file), join(b, path)) || path}${anchor}`, anchors));
      if (results.every((r) => r.length > 0)) problems.push({ ...results[0][0], target: `${path}${anchor}` });
    }
  });
  return problems;
}

/** Every problem in the repository's tracked markdown and source files. */
export function checkRepository(repo: Repo, files: readonly string[]): LinkProblem[] {
  const cache = new Map<string, Set<string>>();
  const anchors = (f: string) => {
    if (!cache.has(f)) cache.set(f, existsSync(join(repo.root, f)) || repo.paths.has(f) ? markdownAnchors(repo.read(f)) : new Set());
    return cache.get(f)!;
  };
  return files.flatMap((f) => (f.endsWith('.md') ? checkMarkdown(repo, f, anchors) : isSource(f) ? checkSource(repo, f, anchors) : []));
}
