import { execFileSync } from 'node:child_process';
import MarkdownIt from 'markdown-it';

/**
 * Markdown as the documentation checks see it: links (with their line) and fenced code blocks (with their info
 * string and line), parsed by markdown-it so that code spans, code blocks and escapes are handled as GitHub does.
 */

const md = new MarkdownIt({ html: true });

export interface MarkdownLink {
  readonly href: string;
  /** 1-based line of the paragraph, list item or table row the link is in. */
  readonly line: number;
}

export interface FencedBlock {
  /** The info string after the opening fence: `ts run`, `bash check`, `json`. */
  readonly info: string;
  readonly content: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

export function markdownLinks(source: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const token of md.parse(source, {})) {
    const line = (token.map?.[0] ?? 0) + 1;
    for (const child of token.children ?? []) {
      const href = child.type === 'link_open' ? child.attrGet('href') : child.type === 'image' ? child.attrGet('src') : null;
      if (href !== null) links.push({ href, line });
    }
  }
  return links;
}

export function fencedBlocks(source: string): FencedBlock[] {
  return md
    .parse(source, {})
    .filter((t) => t.type === 'fence')
    .map((t) => ({ info: t.info.trim(), content: t.content, line: (t.map?.[0] ?? 0) + 1 }));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a markdown file defines (one per heading, numbered -1, -2, ... when repeated, as GitHub does). */
export function markdownAnchors(source: string): Set<string> {
  const tokens = md.parse(source, {});
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  tokens.forEach((t, i) => {
    if (t.type !== 'heading_open') return;
    const base = headingSlug(tokens[i + 1]?.children?.map((c) => c.content).join('') ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  });
  return anchors;
}

/** The repository's tracked files (what a clone has), relative to `root`. */
export function trackedFiles(root: string): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\0')
    .filter((f) => f !== '');
}
