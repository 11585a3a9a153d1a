// The mask's canvases: the base image, the paint overlay on top (both at the image's native size,
// scaled by CSS), and the brush cursor. Pointer strokes are mapped to native pixels and painted into
// the raster as they happen; a finished stroke is handed to the editor as the pixels it changed.

import type { Ctx } from "../ctx";
import { h } from "../dom";
import type { MaskRaster } from "./raster";

/** What the stage asks of the editor while painting. */
export interface Painter {
  brush(): number;
  erasing(): boolean;
  strokeDone(changed: number[]): void;
}

interface Stroke {
  pointerId: number;
  x: number;
  y: number;
  value: 0 | 1;
  changed: number[];
}

export class MaskStage {
  readonly el: HTMLElement;
  readonly paint = h("canvas", {
    class: "iw-mask-paint",
    attrs: {
      tabindex: 0,
      role: "img",
      "aria-label":
        "Mask: drag to paint the area to change. [ and ] change the brush size, B brush, E eraser, Ctrl+Z undo.",
      "data-role": "mask-canvas",
    },
  });
  private readonly base = h("canvas", { class: "iw-mask-base", attrs: { "aria-hidden": "true" } });
  private readonly cursor = h("div", { class: "iw-brush-cursor", attrs: { "aria-hidden": "true" } });
  private raster: MaskRaster | null = null;
  private overlay: ImageData | null = null;
  private stroke: Stroke | null = null;

  constructor(
    ctx: Ctx,
    private readonly painter: Painter,
  ) {
    this.cursor.hidden = true;
    this.el = h("div", { class: "iw-mask-stage" }, [this.base, this.paint, this.cursor]);
    const { paint } = this;
    ctx.listen<PointerEvent>(paint, "pointerdown", (e) => this.down(e));
    ctx.listen<PointerEvent>(paint, "pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      ctx.listen<PointerEvent>(paint, type, (e) => this.end(e));
    }
    ctx.listen<PointerEvent>(paint, "pointerenter", (e) => {
      this.sizeCursor();
      this.moveCursor(e);
    });
    ctx.listen(paint, "pointerleave", () => {
      if (!this.stroke) this.cursor.hidden = true;
    });
  }

  /** Show `raster` over a blank base of its size (the editor then draws the image). */
  attach(raster: MaskRaster, image: CanvasImageSource): void {
    const { width, height } = raster;
    this.raster = raster;
    this.overlay = new ImageData(raster.overlay, width, height);
    this.stroke = null;
    for (const c of [this.base, this.paint]) {
      c.width = width;
      c.height = height;
    }
    this.paint.dataset.width = String(width);
    this.paint.dataset.height = String(height);
    this.el.style.aspectRatio = `${width} / ${height}`;
    this.el.style.width = `min(100%, calc(min(70vh, 640px) * ${width / height}))`;
    this.paint.getContext("2d")?.clearRect(0, 0, width, height);
    this.base.getContext("2d")?.drawImage(image, 0, 0);
  }

  detach(): void {
    this.raster = null;
    this.overlay = null;
    this.stroke = null;
    this.base.width = this.base.height = this.paint.width = this.paint.height = 0;
  }

  /** Redraw the part of the overlay the raster changed. */
  flush(): void {
    const dirty = this.raster?.takeDirty();
    if (!dirty || !this.overlay) return;
    const { x0, y0, x1, y1 } = dirty;
    this.paint.getContext("2d")?.putImageData(this.overlay, 0, 0, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
  }

  showBrush(size: number): void {
    this.paint.dataset.brush = String(size);
    this.sizeCursor();
  }

  showTool(erasing: boolean): void {
    this.paint.dataset.tool = erasing ? "eraser" : "brush";
    this.cursor.classList.toggle("iw-erasing", erasing);
  }

  setOpacity(value: number): void {
    this.paint.style.opacity = String(value);
  }

  cancelStroke(): void {
    this.stroke = null;
  }

  // ------------------------------------------------------------------------------------ pointer
  private toNative(e: PointerEvent | MouseEvent): { x: number; y: number } {
    const rect = this.paint.getBoundingClientRect();
    const w = this.raster?.width ?? 1;
    const hgt = this.raster?.height ?? 1;
    return {
      x: Math.floor(((e.clientX - rect.left) * w) / rect.width),
      y: Math.floor(((e.clientY - rect.top) * hgt) / rect.height),
    };
  }

  private sizeCursor(): void {
    const rect = this.paint.getBoundingClientRect();
    if (!this.raster || !rect.width) return;
    const px = (this.painter.brush() * rect.width) / this.raster.width;
    this.cursor.style.width = this.cursor.style.height = `${Math.max(2, px)}px`;
  }

  private moveCursor(e: PointerEvent): void {
    const rect = this.el.getBoundingClientRect();
    this.cursor.style.left = `${e.clientX - rect.left}px`;
    this.cursor.style.top = `${e.clientY - rect.top}px`;
    this.cursor.hidden = e.pointerType === "touch";
  }

  private down(e: PointerEvent): void {
    const raster = this.raster;
    if (!raster || this.stroke) return;
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    this.paint.focus({ preventScroll: true });
    try {
      this.paint.setPointerCapture(e.pointerId);
    } catch {
      // the pointer may already be gone; painting still works while it is over the canvas
    }
    const { x, y } = this.toNative(e);
    // A pen's eraser end reports button 5: it erases whatever tool is selected.
    const erase = this.painter.erasing() || (e.pointerType === "pen" && e.button === 5);
    const stroke: Stroke = { pointerId: e.pointerId, x, y, value: erase ? 0 : 1, changed: [] };
    this.stroke = stroke;
    raster.segment(x, y, x, y, this.painter.brush(), stroke.value, stroke.changed);
    this.flush();
    this.sizeCursor();
    this.moveCursor(e);
  }

  private move(e: PointerEvent): void {
    this.moveCursor(e);
    const { stroke, raster } = this;
    if (!stroke || !raster || e.pointerId !== stroke.pointerId) return;
    const samples = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const ev of samples.length ? samples : [e]) {
      const { x, y } = this.toNative(ev);
      if (x === stroke.x && y === stroke.y) continue;
      raster.segment(stroke.x, stroke.y, x, y, this.painter.brush(), stroke.value, stroke.changed);
      stroke.x = x;
      stroke.y = y;
    }
    this.flush();
  }

  private end(e: PointerEvent): void {
    const done = this.stroke;
    if (!done || e.pointerId !== done.pointerId) return;
    this.stroke = null;
    if (this.paint.hasPointerCapture(e.pointerId)) this.paint.releasePointerCapture(e.pointerId);
    if (done.changed.length) this.painter.strokeDone(done.changed);
  }
}
