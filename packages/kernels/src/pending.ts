import type { Buf } from './types.js';

/**
 * Pending buffers: a backend that keeps results on a device (gpu.js on WebGL/headless-gl keeps them as
 * textures) returns a typed array of the right size whose contents are not there yet, and registers here how
 * to fill it. Whatever reads values on the CPU calls `materialize` first (autograd's `Tensor.data`, the
 * registry's fallback to the reference kernels, `setBackend` when the backend changes); kernels of the
 * producing backend take the device copy directly and never read the placeholder.
 *
 * Kept on globalThis under a registered symbol, like the backend registry: the ESM and CJS builds share it.
 */
interface PendingState {
  /** placeholder → the function that reads its device contents into it (and stops tracking it). */
  readonly reads: WeakMap<Buf, () => void>;
  /** Placeholders registered and neither read nor collected: while 0, `materialize` is one comparison. */
  count: number;
  /** One per device backend: reads every placeholder it still has (before another backend runs). */
  readonly flushers: Set<() => void>;
}

const PENDING_KEY = Symbol.for('@ganpo/kernels/pending');
const state: PendingState = ((globalThis as Record<symbol, PendingState | undefined>)[PENDING_KEY] ??= {
  reads: new WeakMap(),
  count: 0,
  flushers: new Set(),
});

/** Registers `buf` as a placeholder that `read` fills. `read` must write every element of `buf`. */
export function markPending(buf: Buf, read: () => void): void {
  if (!state.reads.has(buf)) state.count++;
  state.reads.set(buf, read);
}

/** True while `buf` is a placeholder whose values are still on the device. */
export function isPending(buf: Buf): boolean {
  return state.count > 0 && state.reads.has(buf);
}

/** Makes `buf`'s values readable on the CPU (reads them back if it is a placeholder) and returns it. */
export function materialize<T extends Buf>(buf: T): T {
  if (state.count === 0) return buf;
  const read = state.reads.get(buf);
  if (read) {
    state.reads.delete(buf);
    state.count--;
    read();
  }
  return buf;
}

/** `materialize` over kernel arguments: buffers, arrays of buffers (concat), anything else untouched. */
export function materializeArgs(args: readonly unknown[]): void {
  if (state.count === 0) return;
  for (const a of args) {
    if (a instanceof Float32Array || a instanceof Float64Array) materialize(a);
    else if (Array.isArray(a)) for (const x of a) if (x instanceof Float32Array || x instanceof Float64Array) materialize(x);
  }
}

/** A placeholder was garbage collected unread: its backend tells us so the fast path comes back. */
export function pendingCollected(): void {
  if (state.count > 0) state.count--;
}

/** Registers a device backend's "read everything back" (run by `materializeAll`); returns its removal. */
export function registerPendingFlusher(flush: () => void): () => void {
  state.flushers.add(flush);
  return () => state.flushers.delete(flush);
}

/** Reads every placeholder of every device backend back: before another backend computes on them. */
export function materializeAll(): void {
  if (state.count === 0) return;
  for (const flush of [...state.flushers]) flush();
}
