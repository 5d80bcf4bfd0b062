import type { Message } from './chatTemplate.js';

/**
 * Where TRL's `extract_prompt` splits two texts that share a prompt: the length of their longest common
 * prefix, moved back by one when the prefix ends with a space so that both completions start with it.
 * Never splits a UTF-16 surrogate pair.
 */
export function implicitPromptLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // A shared high surrogate followed by different low surrogates: the split belongs before the pair.
  if (i > 0 && i < n && isHighSurrogate(a.charCodeAt(i - 1))) i--;
  if (i > 0 && a.charCodeAt(i - 1) === 0x20) i--;
  return i;
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

/** The number of leading messages two conversations share (role and content both equal). */
export function commonMessagePrefixLength(a: ReadonlyArray<Message>, b: ReadonlyArray<Message>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i].role === b[i].role && a[i].content === b[i].content) i++;
  return i;
}
