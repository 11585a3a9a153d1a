// What a pointer does on the canvas with each tool: brush and eraser strokes (mask or markup layer),
// rectangle and lasso selections (outlined while dragging, filled on release), and the magic wand
// (one click). Alt subtracts a selection from the mask; a pen's eraser end always erases. Every
// finished edit goes to the editor as one undoable change.

import type { Ctx } from "../ctx";
import type { Layer } from "./history";
import type { MarkupStroke } from "./markup";
import { PixelList } from "./raster";
import type { MaskStage } from "./stage";
import { wandRegion } from "./wand";

export type Tool = "brush" | "eraser" | "rect" | "lasso" | "wand";
export const SELECTIONS: readonly Tool[] = ["rect", "lasso", "wand"];

/** What the canvas asks of the editor. */
export interface Painter {
  tool(): Tool;
  layer(): Layer;
  brush(): number;
  /** The markup colour as a Uint32 RGBA pixel. */
  colour(): number;
  /** Magic wand tolerance, 0–255. */
  tolerance(): number;
  /** A finished edit: the mask pixels it flipped, or the markup stroke. */
  done(layer: Layer, change: PixelList | MarkupStroke): void;
  /** A pointer went down while the layer refuses edits (e.g. markup while a mask exists): say why. */
  blocked(): boolean;
}

interface Active {
  pointerId: number;
  tool: Tool;
  layer: Layer;
  value: 0 | 1;
  x: number;
  y: number;
  /** Selection corners / lasso points, native px. */
  points: number[];
  changed: PixelList;
  markup: MarkupStroke;
}

export class Interaction {
  private active: Active | null = null;
  private pixels: ImageData | null = null;

  constructor(
    ctx: Ctx,
    private readonly stage: MaskStage,
    private readonly painter: Painter,
    /** True while a pan or pinch owns the pointer. */
    private readonly gesturing: () => boolean,
  ) {
    const { paint } = stage;
    ctx.listen<PointerEvent>(paint, "pointerdown", (e) => this.down(e));
    ctx.listen<PointerEvent>(paint, "pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      ctx.listen<PointerEvent>(paint, type, (e) => this.end(e));
    }
    ctx.listen<PointerEvent>(paint, "pointerenter", (e) => stage.moveCursor(e, this.cursorSize()));
    ctx.listen(paint, "pointerleave", () => {
      if (!this.active) stage.cursor.hidden = true;
    });
  }

  /** A new base image: forget the cached pixels the wand reads. */
  reset(): void {
    this.pixels = null;
    this.cancel();
  }

  private cursorSize(): number | null {
    const t = this.painter.tool();
    return t === "brush" || t === "eraser" || this.painter.layer() === "markup" ? this.painter.brush() : null;
  }

  private down(e: PointerEvent): void {
    const edits = this.stage.edits;
    if (!edits || this.active || this.gesturing()) return;
    if (e.pointerType === "mouse" && e.button !== 0 && e.button !== 5) return;
    e.preventDefault();
    this.stage.paint.focus({ preventScroll: true });
    if (this.painter.blocked()) return;
    try {
      this.stage.paint.setPointerCapture(e.pointerId);
    } catch {
      // the pointer may already be gone; painting still works while it is over the canvas
    }
    const { x, y } = this.stage.toNative(e);
    const layer = this.painter.layer();
    const picked = this.painter.tool();
    const penEraser = e.pointerType === "pen" && (e.button === 5 || (e.buttons & 32) !== 0);
    const tool: Tool = penEraser ? "eraser" : layer === "markup" && SELECTIONS.includes(picked) ? "brush" : picked;
    const value: 0 | 1 = tool === "eraser" || e.altKey ? 0 : 1;
    const a: Active = { pointerId: e.pointerId, tool, layer, value, x, y, points: [x, y], changed: new PixelList(), markup: { idx: [], before: [] } };
    this.active = a;
    if (tool === "wand") {
      this.pixels ??= this.stage.imagePixels();
      const img = this.pixels;
      if (img) edits.raster.pixels(wandRegion(img.data, img.width, img.height, x, y, this.painter.tolerance()), value, a.changed);
      this.finish();
      return;
    }
    if (tool === "brush" || tool === "eraser") this.paintTo(a, x, y);
    this.stage.flush();
    this.stage.moveCursor(e, this.cursorSize());
  }

  private paintTo(a: Active, x: number, y: number): void {
    const edits = this.stage.edits;
    if (!edits) return;
    const d = this.painter.brush();
    if (a.layer === "markup") edits.markup.segment(a.x, a.y, x, y, d, a.tool === "eraser" ? 0 : this.painter.colour(), a.markup);
    else edits.raster.segment(a.x, a.y, x, y, d, a.value, a.changed);
    a.x = x;
    a.y = y;
  }

  private move(e: PointerEvent): void {
    this.stage.moveCursor(e, this.cursorSize());
    const a = this.active;
    if (!a || e.pointerId !== a.pointerId) return;
    const samples = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const ev of samples.length ? samples : [e]) {
      const { x, y } = this.stage.toNative(ev);
      if (x === a.x && y === a.y) continue;
      if (a.tool === "brush" || a.tool === "eraser") this.paintTo(a, x, y);
      else if (a.tool === "lasso") {
        a.points.push(x, y);
        a.x = x;
        a.y = y;
      } else {
        a.x = x;
        a.y = y;
      }
    }
    if (a.tool === "rect") {
      const [x0, y0] = a.points as [number, number];
      this.stage.showOutline([x0, y0, a.x + 1, y0, a.x + 1, a.y + 1, x0, a.y + 1]);
    } else if (a.tool === "lasso") this.stage.showOutline(a.points);
    this.stage.flush();
  }

  private end(e: PointerEvent): void {
    const a = this.active;
    if (!a || e.pointerId !== a.pointerId) return;
    if (e.type === "pointerup" && (a.tool === "rect" || a.tool === "lasso")) {
      const { x, y } = this.stage.toNative(e);
      const raster = this.stage.edits?.raster;
      if (a.tool === "rect") raster?.rect(a.points[0] as number, a.points[1] as number, x, y, a.value, a.changed);
      else {
        if (x !== a.x || y !== a.y) a.points.push(x, y);
        raster?.polygon(a.points, a.value, a.changed);
      }
    }
    if (this.stage.paint.hasPointerCapture(e.pointerId)) this.stage.paint.releasePointerCapture(e.pointerId);
    this.finish();
  }

  private finish(): void {
    const a = this.active;
    this.active = null;
    this.stage.showOutline(null);
    this.stage.flush();
    if (!a) return;
    if (a.layer === "markup") {
      if (a.markup.idx.length) this.painter.done("markup", a.markup);
    } else if (a.changed.length) this.painter.done("mask", a.changed);
  }

  /** Drop the edit in progress and put back what it changed (a pinch began, the image went). */
  cancel(): void {
    const a = this.active;
    this.active = null;
    this.stage.showOutline(null);
    const edits = this.stage.edits;
    if (!a || !edits) return;
    if (a.changed.length) edits.raster.apply({ kind: "flip", idx: a.changed.toIdx() });
    const op = edits.markup.opOf(a.markup);
    if (op) edits.markup.apply(op);
    this.stage.flush();
  }
}
