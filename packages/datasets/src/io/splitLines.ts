import { UnitAccumulator, type RawUnit } from './rawUnits.js';

/**
 * Cuts a byte stream into lines on \n (0x0A) with constant memory beyond the longest line: each line is
 * yielded as soon as its newline arrives. A last line without a newline is yielded too; a trailing
 * newline does not make an extra empty line. Carriage returns are left for the parser to strip.
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes: number): AsyncGenerator<RawUnit> {
  const acc = new UnitAccumulator(maxLineBytes);
  let line = 1;
  let pendingBytes = false;
  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) {
        acc.add(chunk.subarray(start));
        pendingBytes ||= start < chunk.length;
        break;
      }
      acc.add(chunk.subarray(start, newline));
      yield acc.take(line++);
      pendingBytes = false;
      start = newline + 1;
    }
  }
  if (pendingBytes) yield acc.take(line);
}
