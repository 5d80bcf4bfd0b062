/**
 * The pieces a container is cut into before parsing: a line of a JSONL file, or one element of a
 * JSON array. Bytes, not text, so that invalid UTF-8 is found per unit and named by its line.
 */
export type RawUnit =
  | { readonly kind: 'unit'; readonly line: number; readonly bytes: Uint8Array }
  /** Longer than the limit: its bytes were counted but not kept, so memory stays bounded. */
  | { readonly kind: 'too_long'; readonly line: number; readonly size: number }
  /** The container itself is broken (a JSON array that is not closed, text after it...): fatal. */
  | { readonly kind: 'broken'; readonly line: number; readonly detail: string };

/** Collects the pieces of one unit across chunks; drops them once the unit exceeds the limit. */
export class UnitAccumulator {
  private parts: Uint8Array[] = [];
  private overflow = false;
  size = 0;

  constructor(private readonly maxBytes: number) {}

  add(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.size += piece.length;
    if (this.overflow) return;
    if (this.size > this.maxBytes) {
      this.overflow = true;
      this.parts = [];
      return;
    }
    this.parts.push(piece);
  }

  take(line: number): RawUnit {
    const unit: RawUnit = this.overflow
      ? { kind: 'too_long', line, size: this.size }
      : { kind: 'unit', line, bytes: this.parts.length === 1 ? this.parts[0] : concatBytes(this.parts, this.size) };
    this.parts = [];
    this.overflow = false;
    this.size = 0;
    return unit;
  }
}

/** The pieces joined (Buffer.concat without Node's Buffer, so the module also runs in a browser). */
function concatBytes(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
