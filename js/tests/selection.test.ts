// Rectangle and lasso fills (geometry.ts through MaskRaster), the magic wand's flood at a tolerance,
// and the feather band: each against a reference written independently, on known pixels.

import { describe, expect, it } from "vitest";
import { featherBand } from "../mask/feather";
import { polygonSpans } from "../mask/geometry";
import { MaskRaster } from "../mask/raster";
import { wandRegion } from "../mask/wand";
import { painted } from "./helpers";

/** Even–odd point-in-polygon by ray casting (the reference for polygonSpans). */
function inside(pts: number[], x: number, y: number): boolean {
  let c = false;
  const n = pts.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = pts[2 * i] as number;
    const yi = pts[2 * i + 1] as number;
    const xj = pts[2 * j] as number;
    const yj = pts[2 * j + 1] as number;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

describe("rectangle", () => {
  it("fills exactly the inclusive box, whichever corner the drag starts from", () => {
    const r = new MaskRaster(20, 10);
    const changed: number[] = [];
    r.rect(12, 7, 3, 2, 1, changed);
    const expected: number[] = [];
    for (let y = 2; y <= 7; y++) for (let x = 3; x <= 12; x++) expected.push(y * 20 + x);
    expect(painted(r)).toEqual(expected);
    expect(changed.length).toBe(expected.length);
  });
  it("is clipped to the image and subtracts with value 0", () => {
    const r = new MaskRaster(10, 10);
    r.rect(-5, -5, 4, 4, 1, []);
    expect(r.count).toBe(25);
    const changed: number[] = [];
    r.rect(2, 2, 30, 30, 0, changed);
    expect(r.count).toBe(25 - 9);
    expect(changed.length).toBe(9);
  });
});

describe("lasso", () => {
  it("fills the pixel centres inside a concave polygon (even–odd) plus its outline", () => {
    const W = 40;
    const H = 30;
    const pts = [2, 2, 35, 4, 20, 12, 36, 27, 3, 25];
    const spans = new Uint8Array(W * H);
    polygonSpans(W, H, pts, (y, x0, x1) => {
      for (let x = x0; x <= x1; x++) spans[y * W + x] = 1;
    });
    let mismatches = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        // Centres exactly on an edge may go either way; everything else must agree with ray casting.
        if (!!spans[y * W + x] !== inside(pts, x, y)) mismatches++;
      }
    }
    expect(mismatches).toBeLessThanOrEqual(6);
    const r = new MaskRaster(W, H);
    r.polygon(pts, 1, []);
    for (let k = 0; k < pts.length; k += 2) expect(r.bits[(pts[k + 1] as number) * W + (pts[k] as number)]).toBe(1);
    expect(r.bits[15 * W + 30]).toBe(0); // inside the notch
    expect(r.bits[20 * W + 10]).toBe(1);
  });
  it("a triangle's area is about half its box", () => {
    const r = new MaskRaster(101, 101);
    r.polygon([0, 0, 100, 0, 0, 100], 1, []);
    expect(Math.abs(r.count - 5151)).toBeLessThanOrEqual(101);
  });
});

describe("magic wand", () => {
  /** A 6×4 image: left half grey 100 with one 130 pixel, right half 200; a 100 island at (5, 3). */
  function image(): Uint8ClampedArray {
    const W = 6;
    const px = new Uint8ClampedArray(W * 4 * 4);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < W; x++) {
        const v = x < 3 ? 100 : 200;
        px.set([v, v, v, 255], (y * W + x) * 4);
      }
    }
    px.set([130, 100, 100, 255], (1 * W + 1) * 4);
    px.set([100, 100, 100, 255], (3 * W + 5) * 4);
    return px;
  }
  it("takes the connected pixels within the tolerance, not the island", () => {
    const sorted = (a: Uint32Array): number[] => [...a].sort((p, q) => p - q);
    const tight = sorted(wandRegion(image(), 6, 4, 0, 0, 10));
    expect(tight.length).toBe(11); // 12 left pixels minus the 130 one
    expect(tight).not.toContain(1 * 6 + 1);
    expect(tight).not.toContain(3 * 6 + 5);
    const loose = sorted(wandRegion(image(), 6, 4, 0, 0, 30));
    expect(loose.length).toBe(12);
    const all = wandRegion(image(), 6, 4, 0, 0, 100);
    expect(all.length).toBe(24);
  });
  it("tolerance 0 takes only the exact colour; outside the image takes nothing", () => {
    expect(wandRegion(image(), 6, 4, 5, 3, 0).length).toBe(1);
    expect(wandRegion(image(), 6, 4, 9, 0, 50).length).toBe(0);
  });
});

describe("feather band", () => {
  it("is the unmasked pixels within the radius (Euclidean) of the mask", () => {
    const W = 30;
    const H = 20;
    const bits = new Uint8Array(W * H);
    for (let y = 8; y <= 11; y++) for (let x = 10; x <= 14; x++) bits[y * W + x] = 1;
    for (const radius of [0, 1, 3, 4.5]) {
      const band = featherBand(bits, W, H, radius);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          let best = Infinity;
          for (let q = 0; q < W * H; q++) if (bits[q]) best = Math.min(best, (x - (q % W)) ** 2 + (y - Math.floor(q / W)) ** 2);
          const expected = best > 0 && best <= radius * radius ? 1 : 0;
          expect(band[y * W + x], `r=${radius} (${x},${y})`).toBe(expected);
        }
      }
    }
  });
  it("is empty without a mask", () => {
    expect(featherBand(new Uint8Array(100), 10, 10, 8).some(Boolean)).toBe(false);
  });
});
