// Undo/redo: the bare history (stack order, redo cleared by a new edit, the limit) and MaskEdits, which
// applies strokes, clear and invert to a raster and undoes / redoes them exactly.

import { describe, expect, it } from "vitest";
import { MaskEdits, UNDO_LIMIT, UndoHistory } from "../mask/history";
import { MaskRaster } from "../mask/raster";
import { painted } from "./helpers";

/** Paint a stroke the way the stage does (into the raster) and record it. */
function stroke(edits: MaskEdits, ax: number, ay: number, bx: number, by: number, d: number, value: 0 | 1 = 1): boolean {
  const changed: number[] = [];
  edits.raster.segment(ax, ay, bx, by, d, value, changed);
  return edits.stroke(changed);
}

describe("UndoHistory", () => {
  it("undoes last-first and redoes in the original order", () => {
    const h = new UndoHistory<string>();
    expect(h.canUndo).toBe(false);
    expect(h.undo()).toBeUndefined();
    h.record("a");
    h.record("b");
    expect(h.undo()).toBe("b");
    expect(h.undo()).toBe("a");
    expect(h.undo()).toBeUndefined();
    expect(h.canRedo).toBe(true);
    expect(h.redo()).toBe("a");
    expect(h.redo()).toBe("b");
    expect(h.redo()).toBeUndefined();
    expect(h.canUndo).toBe(true);
  });

  it("a new edit after undo drops what could be redone", () => {
    const h = new UndoHistory<string>();
    h.record("a");
    h.record("b");
    h.undo();
    h.record("c");
    expect(h.canRedo).toBe(false);
    expect(h.redo()).toBeUndefined();
    expect(h.undo()).toBe("c");
    expect(h.undo()).toBe("a");
  });

  it("keeps only the newest `limit` edits (200 by default)", () => {
    expect(new UndoHistory().limit).toBe(UNDO_LIMIT);
    expect(UNDO_LIMIT).toBe(200);
    const h = new UndoHistory<number>(3);
    for (let i = 1; i <= 5; i++) h.record(i);
    expect([h.undo(), h.undo(), h.undo(), h.undo()]).toEqual([5, 4, 3, undefined]);
    expect([h.redo(), h.redo(), h.redo(), h.redo()]).toEqual([3, 4, 5, undefined]);
  });

  it("clear forgets both stacks", () => {
    const h = new UndoHistory<number>();
    h.record(1);
    h.record(2);
    h.undo();
    h.clear();
    expect(h.canUndo || h.canRedo).toBe(false);
  });
});

describe("MaskEdits", () => {
  it("undo restores the bits before each stroke; redo reapplies them", () => {
    const e = new MaskEdits(new MaskRaster(80, 60));
    stroke(e, 10, 10, 60, 10, 6);
    const one = painted(e.raster);
    stroke(e, 10, 40, 60, 50, 8);
    const two = painted(e.raster);
    expect(two.length).toBeGreaterThan(one.length);

    expect(e.run("undo")).toBe("mask");
    expect(painted(e.raster)).toEqual(one);
    expect(e.run("undo")).toBe("mask");
    expect(painted(e.raster)).toEqual([]);
    expect(e.raster.count).toBe(0);
    expect(e.run("undo")).toBeNull();

    expect(e.run("redo")).toBe("mask");
    expect(painted(e.raster)).toEqual(one);
    expect(e.run("redo")).toBe("mask");
    expect(painted(e.raster)).toEqual(two);
    expect(e.run("redo")).toBeNull();
    expect(e.raster.count).toBe(two.length);
  });

  it("an eraser stroke over paint is undone back to the painted state", () => {
    const e = new MaskEdits(new MaskRaster(40, 20));
    stroke(e, 5, 10, 35, 10, 8);
    const before = painted(e.raster);
    stroke(e, 20, 10, 20, 10, 6, 0);
    expect(painted(e.raster).length).toBeLessThan(before.length);
    e.run("undo");
    expect(painted(e.raster)).toEqual(before);
  });

  it("a stroke that changed nothing is not an edit", () => {
    const e = new MaskEdits(new MaskRaster(20, 20));
    stroke(e, 10, 10, 10, 10, 4);
    expect(stroke(e, 10, 10, 10, 10, 4)).toBe(false);
    expect(stroke(e, 2, 2, 2, 2, 3, 0)).toBe(false);
    e.run("undo");
    expect(e.history.canUndo).toBe(false);
  });

  it("invert and clear are undoable edits; clear of an empty mask is nothing", () => {
    const e = new MaskEdits(new MaskRaster(12, 10));
    expect(e.run("clear")).toBeNull();
    expect(e.history.canUndo).toBe(false);
    stroke(e, 6, 5, 6, 5, 5);
    const p = painted(e.raster);
    expect(e.run("invert")).toBe("mask");
    expect(e.raster.count).toBe(120 - p.length);
    expect(e.run("clear")).toBe("mask");
    expect(e.raster.count).toBe(0);
    e.run("undo");
    expect(e.raster.count).toBe(120 - p.length);
    e.run("undo");
    expect(painted(e.raster)).toEqual(p);
    e.run("redo");
    e.run("redo");
    expect(e.raster.count).toBe(0);
  });

  it("the history limit bounds how far back undo goes", () => {
    const e = new MaskEdits(new MaskRaster(50, 5), 2);
    stroke(e, 5, 2, 5, 2, 3);
    const first = painted(e.raster);
    stroke(e, 20, 2, 20, 2, 3);
    stroke(e, 35, 2, 35, 2, 3);
    e.run("undo");
    e.run("undo");
    expect(e.run("undo")).toBeNull();
    expect(painted(e.raster)).toEqual(first);
  });

  it("replacing the mask (loaded from the trait) leaves nothing to undo or redo", () => {
    const e = new MaskEdits(new MaskRaster(4, 1));
    stroke(e, 0, 0, 0, 0, 1);
    stroke(e, 1, 0, 1, 0, 1);
    e.run("undo");
    e.replace(Uint8Array.from([0, 0, 1, 1]));
    expect(painted(e.raster)).toEqual([2, 3]);
    expect(e.history.canUndo || e.history.canRedo).toBe(false);
    e.replace(null);
    expect(e.raster.count).toBe(0);
  });
});

describe("one history for mask and markup", () => {
  it("undoes and redoes across layers in order, markup pixels exactly", async () => {
    const { colourPixel } = await import("../mask/markup");
    const e = new MaskEdits(new MaskRaster(30, 20));
    stroke(e, 5, 5, 10, 5, 3);
    const maskAfter = painted(e.raster);
    const red = colourPixel("#ff0000");
    const s1 = { idx: [] as number[], before: [] as number[] };
    e.markup.segment(20, 10, 25, 10, 3, red, s1);
    expect(e.markupStroke(s1)).toBe(true);
    const blue = colourPixel("#0000ff");
    const s2 = { idx: [] as number[], before: [] as number[] };
    e.markup.segment(22, 8, 22, 14, 3, blue, s2);
    e.markupStroke(s2);
    const snapshot = e.markup.rgba.slice();
    expect(e.run("undo")).toBe("markup");
    const px = new Uint32Array(e.markup.rgba.buffer);
    expect(px[10 * 30 + 22]).toBe(red);
    expect(e.run("undo")).toBe("markup");
    expect(e.markup.count).toBe(0);
    expect(e.run("undo")).toBe("mask");
    expect(e.raster.count).toBe(0);
    expect(e.run("redo")).toBe("mask");
    expect(painted(e.raster)).toEqual(maskAfter);
    e.run("redo");
    e.run("redo");
    expect(e.markup.rgba).toEqual(snapshot);
    expect(e.run("clear", "markup")).toBe("markup");
    expect(e.markup.count).toBe(0);
    expect(e.raster.count).toBe(maskAfter.length);
    expect(e.run("undo")).toBe("markup");
    expect(e.markup.rgba).toEqual(snapshot);
  });
});
