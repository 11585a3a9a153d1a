// Zoom maths (the pixel under the pointer stays put, clamping, steps, fit) and expand maths (aspect
// with anchors, dragged sides, reading the option).

import { describe, expect, it } from "vitest";
import { dragSide, expandToAspect, parseAspect, readExpand } from "../mask/expand-math";
import { MAX_SCALE, MIN_SCALE, type View, fitScale, offset, stepScale, viewToNative, wheelScale, zoomAt } from "../mask/zoom";

const base: View = { scale: 0.25, scrollX: 0, scrollY: 0, vw: 800, vh: 450, w: 3840, h: 2160 };

describe("zoom", () => {
  it("fit shows the whole image; the image box is centred while smaller than the viewport", () => {
    expect(fitScale(3840, 2160, 800, 600)).toBeCloseTo(800 / 3840);
    expect(fitScale(1000, 2000, 800, 500)).toBeCloseTo(0.25);
    expect(offset(500, 800)).toBe(150);
    expect(offset(900, 800)).toBe(0);
  });
  it("keeps the native pixel under the pointer where it was", () => {
    let v = { ...base, scale: fitScale(3840, 2160, 800, 450) };
    for (const [s, px, py] of [[1, 100, 100], [4, 700, 30], [0.5, 400, 225], [12, 10, 440]] as [number, number, number][]) {
      const before = viewToNative(v, px, py);
      const next = zoomAt(v, s, px, py);
      const after = viewToNative(next, px, py);
      // Scroll positions are whole CSS px: the point may move by less than one CSS px.
      expect(Math.abs(after.x - before.x) * next.scale).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(Math.abs(after.y - before.y) * next.scale).toBeLessThanOrEqual(0.5 + 1e-9);
      v = next;
    }
  });
  it("clamps the scroll to the content and the scale to its limits", () => {
    const v = zoomAt(base, 2, 0, 0);
    expect(v.scrollX).toBeGreaterThanOrEqual(0);
    expect(zoomAt(base, 1000, 400, 200).scale).toBe(MAX_SCALE);
    expect(zoomAt(base, 0, 400, 200).scale).toBe(MIN_SCALE);
    const corner = zoomAt({ ...base, scale: 1 }, 2, 800, 450);
    expect(corner.scrollX).toBeLessThanOrEqual(3840 * 2 - 800);
  });
  it("steps through 100% and the wheel zooms in on negative deltas", () => {
    expect(stepScale(0.8, 1)).toBe(1);
    expect(stepScale(1, 1)).toBe(1.5);
    expect(stepScale(1, -1)).toBeCloseTo(2 / 3);
    expect(wheelScale(1, -100)).toBeGreaterThan(1);
    expect(wheelScale(1, 100)).toBeLessThan(1);
  });
});

describe("expand", () => {
  it("grows only the short axis to the aspect, split by the anchor", () => {
    expect(expandToAspect(1000, 1000, parseAspect("16:9"), "center")).toEqual({ left: 389, right: 389, top: 0, bottom: 0 });
    expect(expandToAspect(1000, 1000, parseAspect("16:9"), "left")).toEqual({ left: 0, right: 778, top: 0, bottom: 0 });
    expect(expandToAspect(1000, 1000, parseAspect("16:9"), "right")).toEqual({ left: 778, right: 0, top: 0, bottom: 0 });
    expect(expandToAspect(1600, 900, parseAspect("9:16"), "top")).toEqual({ left: 0, right: 0, top: 0, bottom: 1944 });
    expect(expandToAspect(1600, 900, parseAspect("1:1"), "center")).toEqual({ left: 0, right: 0, top: 350, bottom: 350 });
    expect(expandToAspect(1024, 768, parseAspect("4:3"), "center")).toEqual({ left: 0, right: 0, top: 0, bottom: 0 });
    const odd = expandToAspect(1001, 1000, parseAspect("3:2"), "center");
    expect(1001 + odd.left + odd.right).toBe(1500);
    expect(odd.right - odd.left).toBe(1);
  });
  it("dragged sides stay within 0 and twice the image", () => {
    const e = { left: 10, right: 0, top: 0, bottom: 0 };
    expect(dragSide(e, "left", -50, 100, 80).left).toBe(0);
    expect(dragSide(e, "left", 500, 100, 80).left).toBe(200);
    expect(dragSide(e, "bottom", 30.4, 100, 80).bottom).toBe(30);
  });
  it("reads a missing or partial option as zeros", () => {
    expect(readExpand(undefined)).toEqual({ left: 0, right: 0, top: 0, bottom: 0 });
    expect(readExpand({ left: 12, top: -3, right: "x" })).toEqual({ left: 12, right: 0, top: 0, bottom: 0 });
  });
});
