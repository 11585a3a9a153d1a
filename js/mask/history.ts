// Undo/redo of mask edits. Ops are their own inverse (raster.ts), so the history only moves them
// between two stacks and MaskEdits applies what `undo()` or `redo()` returns. No DOM.

import type { MaskRaster, Op } from "./raster";

/** How many edits can be undone; older ones are forgotten. */
export const UNDO_LIMIT = 200;

export class UndoHistory<T> {
  private done: T[] = [];
  private undone: T[] = [];

  constructor(readonly limit = UNDO_LIMIT) {}

  get canUndo(): boolean {
    return this.done.length > 0;
  }
  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  /** A new edit was made: it can be undone, and nothing undone can be redone any more. */
  record(op: T): void {
    this.done.push(op);
    if (this.done.length > this.limit) this.done.shift();
    this.undone = [];
  }

  /** The edit to apply to undo the latest one (it moves to the redo stack), if any. */
  undo(): T | undefined {
    const op = this.done.pop();
    if (op !== undefined) this.undone.push(op);
    return op;
  }

  /** The edit to apply to redo the latest undone one (it moves back to the undo stack), if any. */
  redo(): T | undefined {
    const op = this.undone.pop();
    if (op !== undefined) this.done.push(op);
    return op;
  }

  clear(): void {
    this.done = [];
    this.undone = [];
  }
}

export type EditCommand = "undo" | "redo" | "clear" | "invert";

/**
 * A raster with its undo history: every edit of the mask goes through here. Strokes are painted into
 * the raster as the pointer moves (stage.ts) and recorded when they end; the commands apply an op.
 */
export class MaskEdits {
  readonly history: UndoHistory<Op>;

  constructor(
    readonly raster: MaskRaster,
    limit = UNDO_LIMIT,
  ) {
    this.history = new UndoHistory<Op>(limit);
  }

  /** A finished stroke that changed these pixels (already painted) becomes one undoable edit. */
  stroke(changed: number[]): boolean {
    if (!changed.length) return false;
    this.history.record({ kind: "flip", idx: Uint32Array.from(changed) });
    return true;
  }

  /** Undo, redo, clear or invert; false when there was nothing to do (the raster is unchanged). */
  run(command: EditCommand): boolean {
    const { raster, history } = this;
    let op: Op | undefined;
    if (command === "undo") op = history.undo();
    else if (command === "redo") op = history.redo();
    else if (command === "invert") op = { kind: "invert" };
    else if (raster.count > 0) op = raster.clearOp();
    if (!op) return false;
    raster.apply(op);
    if (command === "clear" || command === "invert") history.record(op);
    return true;
  }

  /** Replace the whole mask (a mask loaded from the trait): nothing to undo any more. */
  replace(bits: Uint8Array | null): void {
    if (bits) this.raster.load(bits);
    else this.raster.reset();
    this.history.clear();
  }
}
