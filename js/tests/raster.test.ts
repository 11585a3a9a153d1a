// MaskRaster: exact integer discs and capsules, erasing, the ops (flip, invert, clear) and the overlay.

import { describe, expect, it } from "vitest";
import { MaskRaster, OVERLAY_RGB } from "../mask/raster";
import { bitsAt, brushDisc, horizontalCapsule, painted } from "./helpers";

describe("painting", () => {
  it("a click paints exactly the disc 4·((x−cx)² + (y−cy)²) ≤ D²", () => {
    for (const d of [1, 2, 5, 8, 13]) {
      const r = new MaskRaster(40, 30);
      const changed: number[] = [];
      r.segment(20, 15, 20, 15, d, 1, changed);
      const expected = brushDisc(40, 30, 20, 15, d);
      expect(painted(r)).toEqual(expected);
      expect(r.count).toBe(expected.length);
      expect([...changed].sort((a, b) => a - b)).toEqual(expected);
    }
  });

  it("small brushes: diameter 1 is one pixel, 2 a plus sign, 3 a 3×3 square", () => {
    const r = new MaskRaster(5, 5);
    r.segment(2, 2, 2, 2, 1, 1, []);
    expect(painted(r)).toEqual([12]);
    r.segment(2, 2, 2, 2, 2, 1, []);
    expect(painted(r)).toEqual([7, 11, 12, 13, 17]);
    r.segment(2, 2, 2, 2, 3, 1, []);
    expect(painted(r)).toEqual([6, 7, 8, 11, 12, 13, 16, 17, 18]);
  });

  it("a stroke paints every pixel within D/2 of the segment (a capsule)", () => {
    const r = new MaskRaster(60, 20);
    r.segment(10, 9, 45, 9, 6, 1, []);
    expect(painted(r)).toEqual(horizontalCapsule(60, 20, 10, 45, 9, 6));
  });

  it("a diagonal stroke has no gaps and covers both end discs", () => {
    const r = new MaskRaster(100, 100);
    r.segment(5, 5, 90, 70, 4, 1, []);
    const bits = bitsAt(r);
    for (let y = 4; y <= 71; y++) expect(bits.slice(y * 100, y * 100 + 100).some(Boolean)).toBe(true);
    for (const i of [...brushDisc(100, 100, 5, 5, 4), ...brushDisc(100, 100, 90, 70, 4)]) expect(bits[i]).toBe(1);
    expect(bits[0]).toBe(0);
    expect(bits[99 * 100 + 99]).toBe(0);
  });

  it("a stroke longer than 1024 px (split internally) is still one exact capsule", () => {
    const r = new MaskRaster(3100, 9);
    r.segment(20, 4, 3050, 4, 5, 1, []);
    expect(painted(r)).toEqual(horizontalCapsule(3100, 9, 20, 3050, 4, 5));
  });

  it("clips at the edges and ignores brushes entirely outside", () => {
    const r = new MaskRaster(10, 10);
    r.segment(0, 0, 0, 0, 5, 1, []);
    expect(painted(r)).toEqual(brushDisc(10, 10, 0, 0, 5));
    const outside: number[] = [];
    r.segment(-50, -50, -40, -50, 4, 1, outside);
    expect(outside).toEqual([]);
    expect(r.count).toBe(brushDisc(10, 10, 0, 0, 5).length);
  });

  it("reports only pixels that actually changed", () => {
    const r = new MaskRaster(20, 20);
    r.segment(10, 10, 10, 10, 6, 1, []);
    const again: number[] = [];
    r.segment(10, 10, 10, 10, 6, 1, again);
    expect(again).toEqual([]);
    const wider: number[] = [];
    r.segment(10, 10, 10, 10, 8, 1, wider);
    const ring = brushDisc(20, 20, 10, 10, 8).filter((i) => !brushDisc(20, 20, 10, 10, 6).includes(i));
    expect([...wider].sort((a, b) => a - b)).toEqual(ring);
  });

  it("erasing (value 0) clears exactly the disc and never paints", () => {
    const r = new MaskRaster(50, 20);
    r.segment(5, 10, 45, 10, 8, 1, []);
    const before = painted(r);
    const erased: number[] = [];
    r.segment(25, 10, 25, 10, 6, 0, erased);
    const disc = brushDisc(50, 20, 25, 10, 6);
    expect([...erased].sort((a, b) => a - b)).toEqual(disc.filter((i) => before.includes(i)));
    expect(painted(r)).toEqual(before.filter((i) => !disc.includes(i)));
    expect(r.count).toBe(before.length - erased.length);
  });
});

describe("ops", () => {
  it("a flip op of a stroke's changed pixels undoes the stroke and redoes it", () => {
    const r = new MaskRaster(30, 30);
    r.segment(3, 3, 8, 3, 3, 1, []);
    const first = painted(r);
    const changed: number[] = [];
    r.segment(5, 5, 25, 20, 4, 1, changed);
    const both = painted(r);
    const op = { kind: "flip" as const, idx: Uint32Array.from(changed) };
    r.apply(op);
    expect(painted(r)).toEqual(first);
    expect(r.count).toBe(first.length);
    r.apply(op);
    expect(painted(r)).toEqual(both);
  });

  it("invert swaps painted and unpainted pixels and is its own inverse", () => {
    const r = new MaskRaster(7, 4);
    r.segment(2, 2, 2, 2, 3, 1, []);
    const p = painted(r);
    r.apply({ kind: "invert" });
    expect(r.count).toBe(28 - p.length);
    expect(painted(r)).toEqual([...Array(28).keys()].filter((i) => !p.includes(i)));
    r.apply({ kind: "invert" });
    expect(painted(r)).toEqual(p);
  });

  it("clearOp empties the mask; applied again it restores it", () => {
    const r = new MaskRaster(16, 16);
    r.segment(4, 4, 12, 9, 5, 1, []);
    const p = painted(r);
    const op = r.clearOp();
    expect(op.kind === "flip" && Array.from(op.idx)).toEqual(p);
    r.apply(op);
    expect(r.count).toBe(0);
    expect(bitsAt(r).every((b) => b === 0)).toBe(true);
    r.apply(op);
    expect(painted(r)).toEqual(p);
  });

  it("load replaces every pixel and reset clears them", () => {
    const r = new MaskRaster(3, 2);
    r.segment(0, 0, 0, 0, 1, 1, []);
    r.load(Uint8Array.from([0, 1, 1, 0, 0, 1]));
    expect(painted(r)).toEqual([1, 2, 5]);
    expect(r.count).toBe(3);
    r.reset();
    expect(r.count).toBe(0);
    expect(painted(r)).toEqual([]);
  });
});

describe("overlay and dirty area", () => {
  it("painted pixels are opaque overlay colour, others transparent", () => {
    const r = new MaskRaster(4, 1);
    r.segment(1, 0, 1, 0, 1, 1, []);
    expect(Array.from(r.overlay)).toEqual([0, 0, 0, 0, ...OVERLAY_RGB, 255, 0, 0, 0, 0, 0, 0, 0, 0]);
    r.segment(1, 0, 1, 0, 1, 0, []);
    expect(r.overlay.every((v) => v === 0)).toBe(true);
  });

  it("tracks the bounds of what changed until taken", () => {
    const r = new MaskRaster(100, 100);
    expect(r.takeDirty()).toBeNull();
    r.segment(10, 20, 10, 20, 4, 1, []);
    r.segment(50, 60, 50, 60, 2, 1, []);
    expect(r.takeDirty()).toEqual({ x0: 8, y0: 18, x1: 51, y1: 61 });
    expect(r.takeDirty()).toBeNull();
    r.apply({ kind: "invert" });
    expect(r.takeDirty()).toEqual({ x0: 0, y0: 0, x1: 99, y1: 99 });
  });
});
