// Reference geometry for the mask tests, written independently of raster.ts's capsule code.

import type { MaskRaster } from "../mask/raster";

export function bitsAt(r: MaskRaster): number[] {
  return Array.from(r.bits);
}

/** Indices of the painted pixels, ascending. */
export function painted(r: MaskRaster): number[] {
  const out: number[] = [];
  r.bits.forEach((b, i) => {
    if (b) out.push(i);
  });
  return out;
}

/** Pixels of a w × h image inside the brush disc of diameter d at (cx, cy). */
export function brushDisc(w: number, h: number, cx: number, cy: number, d: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) if (4 * ((x - cx) ** 2 + (y - cy) ** 2) <= d * d) out.push(y * w + x);
  }
  return out;
}

/** Pixels within d/2 of the horizontal segment (x0, y)–(x1, y), x0 ≤ x1. */
export function horizontalCapsule(w: number, h: number, x0: number, x1: number, y: number, d: number): number[] {
  const out: number[] = [];
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) {
      const dx = px < x0 ? x0 - px : px > x1 ? px - x1 : 0;
      if (4 * (dx * dx + (py - y) ** 2) <= d * d) out.push(py * w + px);
    }
  }
  return out;
}
