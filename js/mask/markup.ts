// The markup layer: coloured guidance strokes at the image's native size, RGBA, transparent where
// nothing is drawn. Sent as the `markup` trait (a PNG, like `mask`) to models whose capabilities say
// they take markup, and never together with a mask. Strokes use the mask's exact geometry (opaque
// colour, no anti-aliasing). Edits are XOR ops, their own inverse, like the mask's. No DOM.

import { DirtyArea, segmentPixels } from "./geometry";
import { rgba32 } from "./raster";
import type { Rect } from "./geometry";

/** An edit of the markup: XOR these pixels (as Uint32 RGBA) with these values; applying it twice undoes it. */
export interface XorOp {
  kind: "xor";
  idx: Uint32Array;
  xor: Uint32Array;
}

/** A stroke in progress: the pixels it changed and what they were. */
export interface MarkupStroke {
  idx: number[];
  before: number[];
}

/** "#rrggbb" → the opaque Uint32 pixel. */
export function colourPixel(hex: string): number {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  const v = m ? parseInt(m[1] as string, 16) : 0xe53935;
  return rgba32((v >> 16) & 255, (v >> 8) & 255, v & 255, 255);
}

export class MarkupLayer {
  /** RGBA pixels, straight into an ImageData and the PNG. */
  readonly rgba: Uint8ClampedArray<ArrayBuffer>;
  private readonly px: Uint32Array;
  /** How many pixels are drawn (not transparent). */
  count = 0;
  private readonly area = new DirtyArea();

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgba = new Uint8ClampedArray(width * height * 4);
    this.px = new Uint32Array(this.rgba.buffer);
  }

  takeDirty(): Rect | null {
    return this.area.take();
  }


  private put(i: number, value: number): void {
    const old = this.px[i] as number;
    if (old === value) return;
    this.px[i] = value;
    this.count += (value ? 1 : 0) - (old ? 1 : 0);
  }

  /** Draw (colour pixel) or erase (0) along a–b with the brush diameter, noting what changed. */
  segment(ax: number, ay: number, bx: number, by: number, d: number, value: number, stroke: MarkupStroke): void {
    segmentPixels(this.width, this.height, ax, ay, bx, by, d, (i) => {
      const old = this.px[i] as number;
      if (old === value) return;
      stroke.idx.push(i);
      stroke.before.push(old);
      this.put(i, value);
    }, this.area.add);
  }

  /** The undoable op of a finished stroke (null when it changed nothing). */
  opOf(stroke: MarkupStroke): XorOp | null {
    if (!stroke.idx.length) return null;
    const idx = Uint32Array.from(stroke.idx);
    const xor = new Uint32Array(idx.length);
    for (let k = 0; k < idx.length; k++) xor[k] = ((stroke.before[k] as number) ^ (this.px[idx[k] as number] as number)) >>> 0;
    return { kind: "xor", idx, xor };
  }

  apply(op: XorOp): void {
    for (let k = 0; k < op.idx.length; k++) {
      const i = op.idx[k] as number;
      this.put(i, ((this.px[i] as number) ^ (op.xor[k] as number)) >>> 0);
    }
    if (op.idx.length) this.area.add(0, 0, this.width - 1, this.height - 1);
  }

  /** The op that erases everything drawn. */
  clearOp(): XorOp {
    const idx: number[] = [];
    const xor: number[] = [];
    for (let i = 0; i < this.px.length; i++) {
      if (this.px[i]) {
        idx.push(i);
        xor.push(this.px[i] as number);
      }
    }
    return { kind: "xor", idx: Uint32Array.from(idx), xor: Uint32Array.from(xor) };
  }

  /** Replace everything with these RGBA pixels (a markup PNG the kernel holds). */
  load(rgba: ArrayLike<number>): void {
    this.rgba.set(rgba);
    this.count = 0;
    for (let i = 0; i < this.px.length; i++) if (this.px[i]) this.count++;
    this.area.add(0, 0, this.width - 1, this.height - 1);
  }

  reset(): void {
    this.px.fill(0);
    this.count = 0;
    this.area.add(0, 0, this.width - 1, this.height - 1);
  }
}
