import { UnitAccumulator, type RawUnit } from './rawUnits.js';

const State = { Start: 0, BeforeElement: 1, AfterComma: 2, InElement: 3, End: 4 } as const;
type State = (typeof State)[keyof typeof State];

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Cuts a JSON array (`[ {...}, {...} ]`, any layout) into its elements, streaming, so that each element
 * goes through the same per-row path as a JSONL line and errors name the line where it starts. Only the
 * top level is scanned (strings, escapes, nesting depth); each element's own syntax is left to JSON.parse.
 * All structural bytes are ASCII, which never occurs inside a multi-byte UTF-8 sequence.
 */
export async function* splitJsonArray(chunks: AsyncIterable<Buffer>, maxElementBytes: number): AsyncGenerator<RawUnit> {
  const acc = new UnitAccumulator(maxElementBytes);
  let state = State.Start as State;
  let line = 1;
  let elementLine = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let firstByte = true;

  for await (const chunk of chunks) {
    let elementStart = state === State.InElement ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (firstByte && b === 0xef && chunk[i + 1] === 0xbb && chunk[i + 2] === 0xbf) {
        i += 2;
        firstByte = false;
        continue;
      }
      firstByte = false;
      switch (state) {
        case State.Start:
          if (b === 0x0a) line++;
          else if (b === 0x5b /* [ */) state = State.BeforeElement;
          else if (!isSpace(b)) {
            yield { kind: 'broken', line, detail: 'not a JSON array: expected "[" as the first character' };
            return;
          }
          break;
        case State.BeforeElement:
        case State.AfterComma:
          if (b === 0x0a) line++;
          else if (b === 0x5d /* ] */) {
            if (state === State.AfterComma) {
              yield { kind: 'broken', line, detail: 'invalid JSON array: "]" right after ","' };
              return;
            }
            state = State.End;
          } else if (!isSpace(b)) {
            state = State.InElement;
            elementLine = line;
            elementStart = i;
            depth = 0;
            inString = false;
            escaped = false;
            i--; // scan this byte again as part of the element
          }
          break;
        case State.InElement:
          if (inString) {
            if (escaped) escaped = false;
            else if (b === 0x5c /* \ */) escaped = true;
            else if (b === 0x22 /* " */) inString = false;
            else if (b === 0x0a) line++;
          } else if (b === 0x22) inString = true;
          else if (b === 0x7b || b === 0x5b) depth++;
          else if ((b === 0x2c /* , */ || b === 0x5d) /* ] */ && depth === 0) {
            acc.add(chunk.subarray(elementStart, i));
            yield acc.take(elementLine);
            elementStart = -1;
            state = b === 0x2c ? State.AfterComma : State.End;
          } else if ((b === 0x7d || b === 0x5d) && depth > 0) depth--;
          else if (b === 0x0a) line++;
          break;
        case State.End:
          if (b === 0x0a) line++;
          else if (!isSpace(b)) {
            yield { kind: 'broken', line, detail: 'text after the closing "]" of the JSON array' };
            return;
          }
          break;
      }
    }
    if (state === State.InElement && elementStart >= 0) acc.add(chunk.subarray(elementStart));
  }
  if (state === State.InElement) yield { kind: 'broken', line: elementLine, detail: 'the JSON array is not closed (file ends inside this element)' };
  else if (state === State.BeforeElement || state === State.AfterComma)
    yield { kind: 'broken', line, detail: 'the JSON array is not closed (missing "]")' };
  else if (state === State.Start) yield { kind: 'broken', line, detail: 'empty file: expected a JSON array' };
}
