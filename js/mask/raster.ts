// The mask as bits at the image's native resolution (1 = edit), plus the RGBA overlay that shows them.
// Painted with exact integer geometry (geometry.ts) — discs, capsules, rectangles, polygons, wand
// regions; never anti-aliased canvas strokes — so the mask is strictly binary. No DOM, no canvas.

import { DirtyArea, polygonSpans, rectSpans, type Rect, segmentPixels } from "./geometry";

/** Overlay colour of painted pixels (the overlay canvas's CSS opacity makes it translucent). */
export const OVERLAY_RGB: readonly [number, number, number] = [236, 30, 110];

/**
 * An edit of the mask. Every op is its own inverse: "flip" toggles the listed pixels (the ones a
 * stroke or a clear changed), "invert" toggles all of them. Undo and redo just apply an op again.
 */
export type Op = { kind: "flip"; idx: Uint32Array } | { kind: "invert" };

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** One RGBA pixel as the platform's Uint32 reads it from an RGBA byte array. */
export function rgba32(r: number, g: number, b: number, a: number): number {
  return LITTLE_ENDIAN ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}
const PAINT_PIXEL = rgba32(...OVERLAY_RGB, 255);

/**
 * The pixels an edit changed, in a growing typed buffer: a rectangle over most of a 4K image changes
 * millions, and pushing those into a plain array (then copying it) took ~200 ms of the gesture.
 */
export class PixelList {
  private buf = new Uint32Array(1024);
  length = 0;

  push(i: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = i;
  }

  /** The buffer, with room for `extra` more indices after `length` (a span writes them in place). */
  grow(extra: number): Uint32Array {
    if (this.length + extra > this.buf.length) {
      const bigger = new Uint32Array(Math.max(this.buf.length * 2, this.length + extra));
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
    }
    return this.buf;
  }

  /** The indices so far, as their own array. */
  toIdx(): Uint32Array {
    return this.buf.slice(0, this.length);
  }
}

/** Where raster edits note the pixels they change (a plain array in tests). */
export type Changed = number[] | PixelList;

/** The changed pixels as an op's index list. */
export function changedIdx(changed: Changed): Uint32Array {
  return changed instanceof PixelList ? changed.toIdx() : Uint32Array.from(changed);
}

export class MaskRaster {
  /** One byte per pixel, row-major: 1 = edit here, 0 = keep. */
  readonly bits: Uint8Array;
  /** RGBA overlay pixels (painted = OVERLAY_RGB opaque, else transparent), for an ImageData. */
  readonly overlay: Uint8ClampedArray<ArrayBuffer>;
  private readonly ov32: Uint32Array;
  /** How many pixels are 1. */
  count = 0;
  private readonly area = new DirtyArea();

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.bits = new Uint8Array(width * height);
    this.overlay = new Uint8ClampedArray(width * height * 4);
    this.ov32 = new Uint32Array(this.overlay.buffer);
  }

  /** The changed area since the last call (to redraw), and forget it. */
  takeDirty(): Rect | null {
    return this.area.take();
  }


  private touchAll(): void {
    this.area.add(0, 0, this.width - 1, this.height - 1);
  }

  private set(i: number, value: number, changed: Changed | null): void {
    if (this.bits[i] === value) return;
    this.bits[i] = value;
    this.ov32[i] = value ? PAINT_PIXEL : 0;
    this.count += value ? 1 : -1;
    changed?.push(i);
  }

  /**
   * Paint (value 1) or erase (value 0) every pixel within diameter/2 of the segment a–b (a disc when
   * a = b); the index of every pixel that changed is pushed to `changed`.
   */
  segment(ax: number, ay: number, bx: number, by: number, diameter: number, value: 0 | 1, changed: Changed): void {
    segmentPixels(this.width, this.height, ax, ay, bx, by, diameter, (i) => this.set(i, value, changed), this.area.add);
  }

  /** Set the pixels x0..x1 of row y (a selection's row span). */
  span(y: number, x0: number, x1: number, value: 0 | 1, changed: Changed): void {
    const { bits, ov32 } = this;
    const paint = value ? PAINT_PIXEL : 0;
    const start = y * this.width + x0;
    const end = y * this.width + x1;
    const list = changed instanceof PixelList ? changed : null;
    const buf = list?.grow(end - start + 1);
    let at = list?.length ?? 0;
    let n = 0;
    for (let i = start; i <= end; i++) {
      if (bits[i] === value) continue;
      bits[i] = value;
      ov32[i] = paint;
      n++;
      if (buf) buf[at++] = i;
      else (changed as number[]).push(i);
    }
    if (list) list.length = at;
    this.count += value ? n : -n;
    this.area.add(x0, y, x1, y);
  }

  /** A rectangle selection with corners a and b (inclusive). */
  rect(ax: number, ay: number, bx: number, by: number, value: 0 | 1, changed: Changed): void {
    rectSpans(this.width, this.height, ax, ay, bx, by, (y, x0, x1) => this.span(y, x0, x1, value, changed));
  }

  /** A lasso: the inside of the closed polygon `pts` (x, y, x, y, …) and its one-pixel outline. */
  polygon(pts: ArrayLike<number>, value: 0 | 1, changed: Changed): void {
    polygonSpans(this.width, this.height, pts, (y, x0, x1) => this.span(y, x0, x1, value, changed));
    const n = pts.length >> 1;
    for (let k = 0; k < n; k++) {
      const j = (k + 1) % n;
      this.segment(pts[2 * k] as number, pts[2 * k + 1] as number, pts[2 * j] as number, pts[2 * j + 1] as number, 1, value, changed);
    }
  }

  /** Set the listed pixels (a magic-wand region). */
  pixels(idx: ArrayLike<number>, value: 0 | 1, changed: Changed): void {
    for (let k = 0; k < idx.length; k++) this.set(idx[k] as number, value, changed);
    if (idx.length) this.touchAll();
  }

  /** Apply an op (to do it, or — being its own inverse — to undo it). */
  apply(op: Op): void {
    if (op.kind === "invert") {
      const { bits } = this;
      for (let i = 0; i < bits.length; i++) this.set(i, bits[i] ? 0 : 1, null);
      this.touchAll();
      return;
    }
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const i of op.idx) {
      this.set(i, this.bits[i] ? 0 : 1, null);
      const x = i % this.width;
      const y = (i - x) / this.width;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    if (op.idx.length) this.area.add(x0, y0, x1, y1);
  }

  /** The op that clears every painted pixel. */
  clearOp(): Op {
    const idx = new Uint32Array(this.count);
    let k = 0;
    for (let i = 0; i < this.bits.length; i++) if (this.bits[i]) idx[k++] = i;
    return { kind: "flip", idx };
  }

  /** Replace the whole mask with `bits` (one 0/1 per pixel, e.g. from a decoded PNG). */
  load(bits: Uint8Array): void {
    for (let i = 0; i < this.bits.length; i++) this.set(i, bits[i] ? 1 : 0, null);
    this.touchAll();
  }

  /** Nothing painted. */
  reset(): void {
    this.bits.fill(0);
    this.ov32.fill(0);
    this.count = 0;
    this.touchAll();
  }
}
