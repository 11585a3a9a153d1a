// The mask's canvases inside a scrolling viewport: the base image, the markup layer, the feather
// band and the mask overlay (all at the image's native size, shown at `scale` CSS px per pixel), a
// selection outline (SVG in native coordinates) and the brush cursor. Zoom keeps the pixel under the
// pointer in place (zoom.ts); pointer input is handled by interact.ts and gestures.ts.

import type { Ctx } from "../ctx";
import { h } from "../dom";
import type { MaskEdits } from "./history";
import { type View, fitScale, offset, panBy, zoomAt } from "./zoom";

const SVG = "http://www.w3.org/2000/svg";

export class MaskStage {
  readonly el: HTMLElement;
  readonly box = h("div", { class: "iw-mask-box" });
  readonly paint = h("canvas", {
    class: "iw-mask-paint",
    attrs: {
      tabindex: 0,
      role: "img",
      "aria-label":
        "Mask: drag to paint the area to change. Press ? for every key: tools, zoom (+, −, 0, 1), pan (space), undo (Ctrl+Z).",
      "data-role": "mask-canvas",
    },
  });
  readonly base = h("canvas", { class: "iw-mask-base", attrs: { "aria-hidden": "true" } });
  readonly markup = h("canvas", { class: "iw-mask-markup", attrs: { "aria-hidden": "true", "data-role": "markup-canvas" } });
  readonly feather = h("canvas", { class: "iw-mask-feather", attrs: { "aria-hidden": "true", "data-role": "feather-canvas" } });
  readonly cursor = h("div", { class: "iw-brush-cursor", attrs: { "aria-hidden": "true" } });
  readonly outline = document.createElementNS(SVG, "svg");
  readonly shape = document.createElementNS(SVG, "polygon");
  edits: MaskEdits | null = null;
  /** CSS px per native pixel; `fitted` while it follows the viewport's size. */
  scale = 1;
  fitted = true;
  private maskImage: ImageData | null = null;
  private markupImage: ImageData | null = null;

  constructor(private readonly ctx: Ctx) {
    this.cursor.hidden = true;
    this.markup.hidden = this.feather.hidden = true;
    this.outline.setAttribute("class", "iw-mask-outline");
    this.outline.setAttribute("aria-hidden", "true");
    this.outline.setAttribute("preserveAspectRatio", "none");
    this.shape.setAttribute("vector-effect", "non-scaling-stroke");
    this.outline.append(this.shape);
    this.box.append(this.base, this.markup, this.feather, this.paint, this.outline, this.cursor);
    this.el = h("div", { class: "iw-mask-stage", attrs: { "data-role": "mask-viewport" } }, [this.box]);
    const observer = new ResizeObserver(() => this.layout());
    observer.observe(this.el);
    ctx.signal.addEventListener("abort", () => observer.disconnect());
  }

  /** Show the layers of `edits` over the image (decoded, native size). */
  attach(edits: MaskEdits, image: CanvasImageSource): void {
    const { width, height } = edits.raster;
    this.edits = edits;
    this.maskImage = new ImageData(edits.raster.overlay, width, height);
    this.markupImage = new ImageData(edits.markup.rgba, width, height);
    for (const c of [this.base, this.paint, this.markup, this.feather]) {
      c.width = width;
      c.height = height;
    }
    this.outline.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.paint.dataset.width = String(width);
    this.paint.dataset.height = String(height);
    this.paint.getContext("2d")?.clearRect(0, 0, width, height);
    this.base.getContext("2d")?.drawImage(image, 0, 0);
    this.fitted = true;
    this.layout();
  }

  detach(): void {
    this.edits = null;
    this.maskImage = this.markupImage = null;
    for (const c of [this.base, this.paint, this.markup, this.feather]) c.width = c.height = 0;
  }

  /** The base image's RGBA pixels (for the magic wand). */
  imagePixels(): ImageData | null {
    const r = this.edits?.raster;
    if (!r) return null;
    return this.base.getContext("2d", { willReadFrequently: true })?.getImageData(0, 0, r.width, r.height) ?? null;
  }

  /** Redraw the parts of the mask and markup layers that changed. */
  flush(): void {
    const e = this.edits;
    if (!e) return;
    const put = (c: HTMLCanvasElement, img: ImageData | null, d: ReturnType<typeof e.raster.takeDirty>): void => {
      if (!d || !img) return;
      c.getContext("2d")?.putImageData(img, 0, 0, d.x0, d.y0, d.x1 - d.x0 + 1, d.y1 - d.y0 + 1);
    };
    put(this.paint, this.maskImage, e.raster.takeDirty());
    put(this.markup, this.markupImage, e.markup.takeDirty());
    // Composite the markup layer only while it holds something.
    this.markup.hidden = e.markup.count === 0;
  }

  // ------------------------------------------------------------------------------------ zoom
  /** The largest height the viewport may take (CSS max-height), px. */
  private maxHeight(): number {
    const m = parseFloat(getComputedStyle(this.el).maxHeight);
    return Number.isFinite(m) && m > 0 ? m : 640;
  }

  view(): View {
    const r = this.edits?.raster;
    return {
      scale: this.scale,
      scrollX: this.el.scrollLeft,
      scrollY: this.el.scrollTop,
      vw: this.el.clientWidth,
      vh: this.el.clientHeight,
      w: r?.width ?? 1,
      h: r?.height ?? 1,
    };
  }

  /** Size the viewport to the fitted image, and refit while not zoomed by hand. */
  layout(): void {
    if (this.live) return; // a wheel zoom in progress: its commit lays out
    const r = this.edits?.raster;
    if (!r) {
      this.el.style.height = "";
      return;
    }
    const vw = this.el.clientWidth;
    if (!vw) return;
    const fit = fitScale(r.width, r.height, vw, this.maxHeight());
    this.el.style.height = `${Math.max(80, Math.round(r.height * fit))}px`;
    const v = this.fitted ? { ...this.view(), scale: fitScale(r.width, r.height, vw, this.el.clientHeight) } : this.view();
    // Only when the box would change: an options sync must not restart the "moving" look.
    const box = this.box.style;
    const same = v.scale === this.scale && box.width === `${v.w * v.scale}px` && box.height === `${v.h * v.scale}px`
      && box.marginLeft === `${offset(v.w * v.scale, v.vw)}px` && box.marginTop === `${offset(v.h * v.scale, v.vh)}px`;
    if (!same) this.apply(v, false);
  }

  /** Show a view: size the image box and scroll the viewport. */
  apply(v: View, moving = true): void {
    this.live = this.committed = null;
    this.box.style.transform = "";
    this.scale = v.scale;
    const cw = v.w * v.scale;
    const ch = v.h * v.scale;
    const s = this.box.style;
    s.width = `${cw}px`;
    s.height = `${ch}px`;
    s.marginLeft = `${offset(cw, v.vw)}px`;
    s.marginTop = `${offset(ch, v.vh)}px`;
    this.el.scrollLeft = v.scrollX;
    this.el.scrollTop = v.scrollY;
    this.box.classList.toggle("iw-pixelated", v.scale >= 2);
    if (moving) this.settle();
    this.paint.dataset.scale = v.scale.toFixed(4);
    this.el.dataset.zoom = String(Math.round(v.scale * 100));
    this.el.dispatchEvent(new CustomEvent("iw-zoom", { detail: v.scale }));
  }

  /** A wheel zoom or pinch in progress: the view it shows (`live`) by a transform of the laid-out one (`committed`). */
  private live: View | null = null;
  private committed: View | null = null;
  private commitTimer: number | null = null;

  /**
   * Zoom for a wheel burst: each step only transforms the image box (the compositor scales what is
   * already drawn, which keeps frames short on a 3840×2160 image); the real layout, sharp at the new
   * scale, follows once the wheel rests.
   */
  zoomLive(scale: number, px: number, py: number): void {
    if (!this.edits) return;
    this.committed ??= this.view();
    this.showLive(zoomAt(this.live ?? this.committed, scale, px, py));
    this.ctx.clearTimeout(this.commitTimer);
    this.commitTimer = this.ctx.timeout(() => this.commitLive(), 120);
  }

  /**
   * A pinch step: zoom to `scale` around the fingers' midpoint (px, py), then pan by how far it moved
   * (dx, dy) — a transform only, like the wheel; `commitLive` lays out once, when the pinch ends.
   */
  pinchLive(scale: number, px: number, py: number, dx: number, dy: number): void {
    if (!this.edits) return;
    this.committed ??= this.view();
    this.showLive(panBy(zoomAt(this.live ?? this.committed, scale, px, py), dx, dy));
  }

  /** Lay out the view a wheel zoom or pinch shows (sharp at its scale), once. */
  commitLive(): void {
    this.ctx.clearTimeout(this.commitTimer);
    this.commitTimer = null;
    const done = this.live;
    this.box.classList.remove("iw-live");
    if (done) this.apply(done);
  }

  /** Show `v` by transforming the laid-out box (no layout of the canvases). */
  private showLive(v: View): void {
    const c = this.committed as View;
    this.live = v;
    this.fitted = false;
    this.scale = v.scale;
    const tx = offset(v.w * v.scale, v.vw) - v.scrollX - (offset(c.w * c.scale, c.vw) - c.scrollX);
    const ty = offset(v.h * v.scale, v.vh) - v.scrollY - (offset(c.h * c.scale, c.vh) - c.scrollY);
    this.box.style.transform = `translate(${tx}px, ${ty}px) scale(${v.scale / c.scale})`;
    this.box.classList.add("iw-moving", "iw-live");
    this.settle();
    this.paint.dataset.scale = v.scale.toFixed(4);
    this.el.dataset.zoom = String(Math.round(v.scale * 100));
    this.el.dispatchEvent(new CustomEvent("iw-zoom", { detail: v.scale }));
  }

  private settleTimer: number | null = null;
  /** While the view keeps changing, scale with the cheapest filter; smooth again once it rests. */
  private settle(): void {
    this.box.classList.add("iw-moving");
    this.ctx.clearTimeout(this.settleTimer);
    this.settleTimer = this.ctx.timeout(() => {
      this.settleTimer = null;
      this.box.classList.remove("iw-moving");
    }, 150);
  }

  /** Zoom to `scale` around the viewport point (px, py), default its centre. */
  zoomTo(scale: number, px?: number, py?: number): void {
    if (!this.edits) return;
    const v = this.live ?? this.view();
    this.fitted = false;
    this.apply(zoomAt(v, scale, px ?? v.vw / 2, py ?? v.vh / 2));
  }

  fit(): void {
    this.live = null; // a wheel zoom still settling gives way (layout's apply drops its transform)
    this.fitted = true;
    this.layout();
  }

  /** Scroll by (dx, dy) CSS px (pan). */
  pan(dx: number, dy: number): void {
    this.el.scrollLeft += dx;
    this.el.scrollTop += dy;
  }

  /** The viewport point of a client point. */
  local(clientX: number, clientY: number): { x: number; y: number } {
    const rect = this.el.getBoundingClientRect();
    return { x: clientX - rect.left - this.el.clientLeft, y: clientY - rect.top - this.el.clientTop };
  }

  /** The native pixel under a client point (through the paint canvas's box, whatever the zoom). */
  toNative(e: { clientX: number; clientY: number }): { x: number; y: number } {
    const rect = this.paint.getBoundingClientRect();
    const w = this.edits?.raster.width ?? 1;
    const hgt = this.edits?.raster.height ?? 1;
    return {
      x: Math.floor(((e.clientX - rect.left) * w) / rect.width),
      y: Math.floor(((e.clientY - rect.top) * hgt) / rect.height),
    };
  }

  // ---------------------------------------------------------------------------- cursor, outline
  setOpacity(value: number): void {
    this.paint.style.opacity = String(value);
  }

  /** The brush cursor: a circle of the brush's size at the pointer, or a crosshair for selections. */
  moveCursor(e: PointerEvent, diameter: number | null): void {
    const rect = this.box.getBoundingClientRect();
    // A transform moves the cursor without a layout of the canvases.
    this.cursor.style.transform = `translate(${e.clientX - rect.left}px, ${e.clientY - rect.top}px) translate(-50%, -50%)`;
    this.cursor.hidden = e.pointerType === "touch" || diameter === null;
    if (diameter !== null) this.cursor.style.width = this.cursor.style.height = `${Math.max(2, diameter * this.scale)}px`;
  }

  /** Outline a selection in progress (native points x, y, …), or hide it (null). */
  showOutline(points: number[] | null): void {
    this.outline.classList.toggle("iw-active", !!points);
    this.shape.setAttribute("points", points ? points.join(" ") : "");
  }
}
