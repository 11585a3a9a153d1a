// The mask's pixel format: RGB 0, alpha 0 = edit, 255 = keep; read back with alpha < 128 = edit. (The
// PNG step needs a browser canvas; tests/browser decode the PNGs the widget writes.)

import { describe, expect, it } from "vitest";
import { bitsToRgba, rgbaToBits } from "../mask/codec";
import { MaskRaster } from "../mask/raster";
import { painted } from "./helpers";

describe("mask pixels", () => {
  it("bits become RGB 0 with alpha strictly 0 (edit) or 255 (keep)", () => {
    const rgba = bitsToRgba(Uint8Array.from([1, 0, 0, 1]));
    expect(Array.from(rgba)).toEqual([0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 0]);
  });

  it("alpha below 128 reads as edit, 128 and above as keep", () => {
    const rgba = Uint8ClampedArray.from([9, 9, 9, 0, 0, 0, 0, 127, 0, 0, 0, 128, 255, 255, 255, 255]);
    expect(Array.from(rgbaToBits(rgba))).toEqual([1, 1, 0, 0]);
  });

  it("a painted raster survives the round trip through its pixels", () => {
    const r = new MaskRaster(64, 48);
    r.segment(5, 5, 50, 40, 7, 1, []);
    r.segment(30, 10, 30, 10, 9, 0, []);
    const rgba = bitsToRgba(r.bits);
    expect(rgba.length).toBe(64 * 48 * 4);
    const back = new MaskRaster(64, 48);
    back.load(rgbaToBits(rgba));
    expect(painted(back)).toEqual(painted(r));
    expect(back.count).toBe(r.count);
  });
});
