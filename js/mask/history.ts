// Undo/redo of mask and markup edits. Ops are their own inverse (raster.ts, markup.ts), so the history only moves them
// between two stacks and MaskEdits applies what `undo()` or `redo()` returns. No DOM.

import { MarkupLayer, type MarkupStroke, type XorOp } from "./markup";
import { type Changed, changedIdx, type MaskRaster, type Op } from "./raster";

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
export type Layer = "mask" | "markup";
/** One undoable edit of either layer; the history keeps them in one order, whatever the tool. */
export type Edit = { layer: "mask"; op: Op } | { layer: "markup"; op: XorOp };

/**
 * The mask raster and the markup layer with one undo history: every edit of either goes through
 * here. Strokes and selections are painted into a layer as they happen (stage.ts) and recorded when
 * they end; the commands apply an op to the layer it belongs to (clear and invert: the active one).
 */
export class MaskEdits {
  readonly history: UndoHistory<Edit>;
  readonly markup: MarkupLayer;

  constructor(
    readonly raster: MaskRaster,
    limit = UNDO_LIMIT,
  ) {
    this.history = new UndoHistory<Edit>(limit);
    this.markup = new MarkupLayer(raster.width, raster.height);
  }

  /** A finished mask edit (stroke, rectangle, lasso, wand) that changed these pixels becomes one undoable edit. */
  stroke(changed: Changed): boolean {
    if (!changed.length) return false;
    this.history.record({ layer: "mask", op: { kind: "flip", idx: changedIdx(changed) } });
    return true;
  }

  /** A finished markup stroke becomes one undoable edit. */
  markupStroke(stroke: MarkupStroke): boolean {
    const op = this.markup.opOf(stroke);
    if (!op) return false;
    this.history.record({ layer: "markup", op });
    return true;
  }

  private applyEdit(e: Edit): void {
    if (e.layer === "mask") this.raster.apply(e.op);
    else this.markup.apply(e.op);
  }

  /** Undo, redo, clear or invert; the layer that changed, or null when there was nothing to do. */
  run(command: EditCommand, active: Layer = "mask"): Layer | null {
    const { raster, history, markup } = this;
    let edit: Edit | undefined;
    if (command === "undo") edit = history.undo();
    else if (command === "redo") edit = history.redo();
    else if (command === "invert") edit = active === "mask" ? { layer: "mask", op: { kind: "invert" } } : undefined;
    else if (active === "markup") edit = markup.count > 0 ? { layer: "markup", op: markup.clearOp() } : undefined;
    else if (raster.count > 0) edit = { layer: "mask", op: raster.clearOp() };
    if (!edit) return null;
    this.applyEdit(edit);
    if (command === "clear" || command === "invert") history.record(edit);
    return edit.layer;
  }

  /** Replace the whole mask (a mask loaded from the trait): nothing to undo any more. */
  replace(bits: Uint8Array | null): void {
    if (bits) this.raster.load(bits);
    else this.raster.reset();
    this.history.clear();
  }
}
