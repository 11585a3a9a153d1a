// How a masked result is put back (shown while there is a mask): "Keep unmasked pixels" with its
// feather radius, the feather preview (the band the kernel blends across, drawn on the canvas), and
// the Detail toggle with its hint (a small mask on a large image). Writes options.keep_unmasked,
// options.feather and options.detail; keys the kernel does not send yet read as their defaults.

import type { Ctx } from "../ctx";
import { h, uid } from "../dom";
import { featherBand } from "./feather";
import type { MaskRaster } from "./raster";
import { rgba32 } from "./raster";

export const DEFAULTS = { keep_unmasked: true, feather: 8, detail: false };
const BAND_PIXEL = rgba32(255, 193, 7, 255);
/** Detail is suggested when the mask's box covers less than this share of an image this large. */
export const DETAIL_SHARE = 0.25;
export const DETAIL_LONG_SIDE = 1536;

/** The mask's bounding box area over the image's (0 when nothing is painted). */
export function boxShare(r: MaskRaster): number {
  if (!r.count) return 0;
  let x0 = r.width;
  let y0 = r.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < r.height; y++) {
    const row = r.bits.subarray(y * r.width, (y + 1) * r.width);
    const first = row.indexOf(1);
    if (first < 0) continue;
    x0 = Math.min(x0, first);
    x1 = Math.max(x1, row.lastIndexOf(1));
    if (y < y0) y0 = y;
    y1 = y;
  }
  return ((x1 - x0 + 1) * (y1 - y0 + 1)) / (r.width * r.height);
}

export function suggestDetail(r: MaskRaster): boolean {
  return r.count > 0 && Math.max(r.width, r.height) > DETAIL_LONG_SIDE && boxShare(r) < DETAIL_SHARE;
}

export class ResultOptions {
  readonly el: HTMLElement;
  private readonly keep = h("input", { attrs: { type: "checkbox", "data-role": "keep-unmasked" } });
  private readonly feather = h("input", { attrs: { type: "range", min: 0, max: 64, step: 1, "data-role": "feather" } });
  private readonly featherOut = h("output", { class: "iw-brush-size" });
  private readonly preview = h("input", { attrs: { type: "checkbox", "data-role": "feather-preview" } });
  private readonly detail = h("input", { attrs: { type: "checkbox", "data-role": "detail" } });
  private readonly hint = h("span", { class: "iw-hint iw-detail-hint", attrs: { "data-role": "detail-hint" } });
  private raster: MaskRaster | null = null;
  private timer: number | null = null;

  constructor(
    private readonly ctx: Ctx,
    /** The canvas the feather band is drawn on (native size, over the image). */
    private readonly canvas: HTMLCanvasElement,
  ) {
    const label = (input: HTMLInputElement, text: string, title: string): HTMLLabelElement => {
      input.id = uid(input.dataset.role ?? "opt");
      return h("label", { class: "iw-check", attrs: { for: input.id, title } }, [input, ` ${text}`]);
    };
    this.feather.id = uid("feather");
    this.el = h("div", { class: "iw-result-options", attrs: { role: "group", "aria-label": "Putting the result back" } }, [
      label(this.keep, "Keep unmasked pixels", "Outside the mask (and its feather) the result is your original, bit for bit"),
      h("span", { class: "iw-tool-opt" }, [
        h("label", { class: "iw-slider", attrs: { for: this.feather.id }, text: "Feather" }), this.feather, this.featherOut,
      ]),
      label(this.preview, "Show feather", "Show the band where the result is blended into the original (F)"),
      label(this.detail, "Detail", "Edit a crop around the mask at full resolution, then paste it back"),
      this.hint,
    ]);
    this.el.hidden = true;
    ctx.listen(this.keep, "change", () => ctx.setOptions({ keep_unmasked: this.keep.checked }));
    ctx.listen(this.feather, "input", () => {
      this.featherOut.textContent = `${this.feather.value} px`;
      this.schedule();
    });
    ctx.listen(this.feather, "change", () => ctx.setOptions({ feather: Number(this.feather.value) }));
    ctx.listen(this.preview, "change", () => this.schedule());
    ctx.listen(this.detail, "change", () => ctx.setOptions({ detail: this.detail.checked }));
  }

  private opt<K extends keyof typeof DEFAULTS>(key: K): (typeof DEFAULTS)[K] {
    const v = this.ctx.options()[key];
    return (typeof v === typeof DEFAULTS[key] ? v : DEFAULTS[key]) as (typeof DEFAULTS)[K];
  }

  /** Follow the options trait (the kernel's values win; missing keys are the defaults). */
  sync(): void {
    this.keep.checked = this.opt("keep_unmasked");
    if (document.activeElement !== this.feather) this.feather.value = String(this.opt("feather"));
    this.featherOut.textContent = `${this.feather.value} px`;
    this.feather.disabled = !this.keep.checked;
    this.detail.checked = this.opt("detail");
    this.showHint();
    this.schedule();
  }

  /** The mask changed (or went): show or hide, update the hint and the band. */
  update(raster: MaskRaster | null): void {
    this.raster = raster;
    this.el.hidden = !raster || raster.count === 0;
    this.showHint();
    this.schedule();
  }

  togglePreview(): void {
    this.preview.checked = !this.preview.checked;
    this.schedule();
  }

  private showHint(): void {
    const r = this.raster;
    const suggest = !!r && !this.detail.checked && suggestDetail(r);
    this.hint.textContent = suggest ? "Small mask on a large image: Detail keeps more of it" : "";
    this.hint.hidden = !suggest;
  }

  /** Redraw the band after the current burst of changes (it reads the whole mask). */
  private schedule(): void {
    this.ctx.clearTimeout(this.timer);
    this.timer = this.ctx.timeout(() => this.drawBand(), 60);
  }

  private drawBand(): void {
    this.timer = null;
    const g = this.canvas.getContext("2d");
    const r = this.raster;
    if (!g) return;
    g.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const on = !!r && this.preview.checked && this.keep.checked && r.count > 0;
    this.canvas.dataset.band = "0";
    // A hidden canvas costs nothing to composite: at 3840×2160 an empty layer still would.
    this.canvas.hidden = !on;
    if (!on || !r || this.canvas.width !== r.width) return;
    const band = featherBand(r.bits, r.width, r.height, Number(this.feather.value));
    const img = new ImageData(r.width, r.height);
    const px = new Uint32Array(img.data.buffer);
    let n = 0;
    for (let i = 0; i < band.length; i++) {
      if (band[i]) {
        px[i] = BAND_PIXEL;
        n++;
      }
    }
    g.putImageData(img, 0, 0);
    this.canvas.dataset.band = String(n);
  }
}
