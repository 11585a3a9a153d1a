// The mask editor view: paint on the first input image (`mask_base`) where it should change, or, for
// models that take markup, draw guidance in colour. Both layers live at the image's native size
// (raster.ts, markup.ts) under one undo history; finished edits go to the `mask` / `markup` traits
// (io.ts). Zoom and pan (stage.ts, gestures.ts), tools (interact.ts), keys (shortcuts.ts), and how
// the result is put back (result-options.ts). A new base image resets both layers.

import { blobOf, bytesEqual } from "../bytes";
import type { Ctx, View } from "../ctx";
import { h, uid } from "../dom";
import { maskShown, problemSlot, showProblem } from "../problems";
import { Gestures } from "./gestures";
import { type EditCommand, type Layer, MaskEdits } from "./history";
import { Interaction } from "./interact";
import { Jobs, LayerIO } from "./io";
import { MaskRaster, PixelList } from "./raster";
import { ResultOptions } from "./result-options";
import { type KeyAction, keyAction } from "./shortcuts";
import { MaskStage } from "./stage";
import { MaskTools } from "./tools";
import { stepScale } from "./zoom";

const EMPTY = new Uint8Array(0);
const MAX_PIXELS = 64 * 1024 * 1024;

class MaskEditor {
  readonly section = h("section", { class: "iw-mask" });
  private readonly stage: MaskStage;
  private readonly tools: MaskTools;
  private readonly interaction: Interaction;
  private readonly gestures: Gestures;
  private readonly io: LayerIO;
  private readonly result: ResultOptions;
  private readonly info = h("p", { class: "iw-mask-info", attrs: { "aria-live": "polite", "data-role": "mask-info" } });
  private readonly note = h("p", { class: "iw-mask-note" });
  private readonly refusal = h("p", { class: "iw-mask-refusal", attrs: { role: "status", "data-role": "layer-refusal" } });
  private readonly problem = problemSlot("mask");
  private readonly baseJobs = new Jobs();
  private baseBytes: Uint8Array = EMPTY;
  private seenBase = false;
  private imageNote = "";

  constructor(private readonly ctx: Ctx) {
    this.stage = new MaskStage(ctx);
    this.tools = new MaskTools(ctx, {
      command: (c) => this.command(c),
      brush: (size) => (this.stage.paint.dataset.brush = String(size)),
      tool: (tool) => {
        this.stage.paint.dataset.tool = tool;
        this.stage.cursor.classList.toggle("iw-erasing", tool === "eraser");
      },
      opacity: (value) => this.stage.setOpacity(value),
      layer: (layer) => this.switchLayer(layer),
      zoom: (to) => this.zoom(to),
    });
    this.interaction = new Interaction(ctx, this.stage, {
      tool: () => this.tools.tool,
      layer: () => this.tools.layer,
      brush: () => this.tools.brush,
      colour: () => this.tools.colour,
      tolerance: () => this.tools.tolerance,
      blocked: () => this.tools.layer === "markup" && !!this.stage.edits?.raster.count,
      done: (layer, change) => {
        const e = this.stage.edits;
        const ok = !!e && (change instanceof PixelList ? e.stroke(change) : e.markupStroke(change));
        if (!ok) return;
        this.refresh();
        this.io.emit(layer);
      },
    }, () => this.gestures.busy());
    this.gestures = new Gestures(ctx, this.stage, () => this.interaction.cancel());
    this.io = new LayerIO(ctx, this.section, () => this.stage.edits, () => {
      this.stage.flush();
      this.refresh();
    });
    this.result = new ResultOptions(ctx, this.stage.feather);
    const headingId = uid("mask");
    this.section.setAttribute("aria-labelledby", headingId);
    this.section.append(
      h("div", { class: "iw-section-head" }, [
        h("h3", { text: "Mask", attrs: { id: headingId } }),
        h("span", { class: "iw-hint", text: "paint where the first image should change" }),
      ]),
      this.tools.el,
      this.stage.el,
      this.refusal,
      this.result.el,
      this.info,
      this.note,
      this.problem,
    );
    this.section.hidden = true;
    this.refusal.hidden = true;
    ctx.listen<KeyboardEvent>(this.section, "keydown", (e) => this.onKey(e));
    ctx.listen<KeyboardEvent>(this.section, "keyup", (e) => {
      if (e.key === " ") this.gestures.spaceHeld = false;
    });
    ctx.listen(this.stage.paint, "blur", () => (this.gestures.spaceHeld = false));
    ctx.listen(this.stage.el, "iw-zoom", () => this.tools.showZoom(this.stage.scale));
  }

  start(): void {
    this.tools.start();
    this.refresh();
    this.onBase();
    this.sync();
  }

  private onKey(e: KeyboardEvent): void {
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (mod && !e.altKey && (key === "z" || key === "y")) {
      e.preventDefault();
      this.command(key === "z" && !e.shiftKey ? "undo" : "redo");
      return;
    }
    if (e.target !== this.stage.paint || mod || e.altKey) return;
    if (e.key === "Escape" && this.tools.keys.el.hidden === false) {
      this.tools.keys.toggle(false);
      return;
    }
    if (e.key === " ") {
      this.gestures.spaceHeld = true;
      e.preventDefault();
      return;
    }
    const action = keyAction(e.key);
    if (action && this.act(action)) e.preventDefault();
  }

  private act(a: KeyAction): boolean {
    const t = this.tools;
    const step = Math.max(1, Math.round(t.brush * 0.15));
    if (a === "brush" || a === "eraser" || a === "rect" || a === "lasso" || a === "wand") t.setTool(a);
    else if (a === "smaller" || a === "bigger") t.setBrush(t.brush + (a === "smaller" ? -step : step));
    else if (a === "undo" || a === "redo") this.command(a);
    else if (a === "zoom-in" || a === "zoom-out") this.zoom(a === "zoom-in" ? "in" : "out");
    else if (a === "fit" || a === "actual") this.zoom(a);
    else if (a === "layer") this.switchLayer(t.layer === "mask" ? "markup" : "mask");
    else if (a === "feather-preview") this.result.togglePreview();
    else if (a === "shortcuts") t.keys.toggle();
    return true;
  }

  private zoom(to: "in" | "out" | "fit" | "actual"): void {
    if (to === "fit") this.stage.fit();
    else this.stage.zoomTo(to === "actual" ? 1 : stepScale(this.stage.scale, to === "in" ? 1 : -1));
  }

  /** Mask or markup: the API takes one or the other, so switching refuses while the other has content. */
  private switchLayer(layer: Layer): void {
    const e = this.stage.edits;
    const offered = this.ctx.caps().markup === true;
    let refusal = "";
    if (layer === "markup" && !offered) refusal = "This model does not take markup.";
    else if (layer === "markup" && e?.raster.count) refusal = "The API takes a mask or markup, not both: clear the mask to draw markup.";
    else if (layer === "mask" && e?.markup.count) refusal = "The API takes a mask or markup, not both: clear the markup to paint a mask.";
    this.refusal.textContent = refusal;
    this.refusal.hidden = !refusal;
    if (!refusal) this.tools.showLayer(layer);
    this.section.dataset.activeLayer = this.tools.layer;
  }

  // ------------------------------------------------------------------------------------ edits
  private command(c: EditCommand): void {
    const layer = this.stage.edits?.run(c, this.tools.layer);
    if (!layer) return;
    this.stage.flush();
    this.refresh();
    this.io.emit(layer);
  }

  private refresh(): void {
    const e = this.stage.edits;
    const r = e?.raster;
    const layerCount = this.tools.layer === "markup" ? e?.markup.count : r?.count;
    this.tools.refresh({ canUndo: !!e?.history.canUndo, canRedo: !!e?.history.canRedo, painted: !!layerCount, loaded: !!r });
    this.result.update(r ?? null);
    if (!r || !e) {
      this.info.textContent = "";
      delete this.section.dataset.painted;
      return;
    }
    const pct = (100 * r.count) / (r.width * r.height);
    const share = r.count === 0 ? "nothing painted" : `${pct < 0.1 ? pct.toFixed(2) : pct.toFixed(1)}% painted`;
    const markup = e.markup.count ? ` · markup on ${e.markup.count} px` : "";
    this.info.textContent = `${r.width}×${r.height} px · ${share}${markup}`;
    this.section.dataset.painted = String(r.count);
    this.section.dataset.markup = String(e.markup.count);
    if (!r.count && !e.markup.count) this.refusal.hidden = true;
  }

  // ------------------------------------------------------------------------------ base image
  private unload(): void {
    this.interaction.reset();
    this.stage.detach();
    delete this.section.dataset.ready;
    this.refresh();
  }

  /** A new `mask_base`: reset, then show it once decoded. */
  onBase(): void {
    const bytes = this.ctx.bytes("mask_base");
    if (bytesEqual(bytes, this.baseBytes)) return;
    const first = !this.seenBase;
    this.seenBase = true;
    this.baseBytes = bytes.slice();
    const job = this.baseJobs.start();
    this.io.cancel();
    this.unload();
    this.imageNote = "";
    // The old layers belong to the old image: reset them (a first render keeps what is stored).
    if (!first) {
      this.io.clear("mask");
      this.io.clear("markup");
    }
    if (!bytes.byteLength) {
      this.sync();
      return;
    }
    createImageBitmap(blobOf(bytes)).then(
      (bitmap) => {
        if (this.baseJobs.stale(job) || this.ctx.disposed) {
          bitmap.close();
          return;
        }
        this.showBase(bitmap, first);
        this.sync();
      },
      () => {
        if (this.baseJobs.stale(job)) return;
        this.imageNote = "The first input image could not be decoded for the mask editor.";
        this.sync();
      },
    );
  }

  private showBase(bitmap: ImageBitmap, first: boolean): void {
    const { width, height } = bitmap;
    if (width * height > MAX_PIXELS) {
      this.imageNote = `The image is too large to paint a mask on (${width}×${height}).`;
      bitmap.close();
      return;
    }
    this.stage.attach(new MaskEdits(new MaskRaster(width, height)), bitmap);
    bitmap.close();
    this.tools.fit(width, height);
    this.refresh();
    this.section.dataset.ready = "1";
    if (first) {
      for (const layer of ["mask", "markup"] as Layer[]) {
        if (this.ctx.bytes(layer).byteLength) this.io.read(layer).catch(() => undefined);
      }
    }
  }

  onTrait(layer: Layer): void {
    this.io.changed(layer);
  }

  /** Shown only in edit mode with a base image; notes, the layer switch and the mask problem. */
  sync(): void {
    this.section.hidden = !maskShown(this.ctx);
    const caps = this.ctx.caps();
    const model = this.ctx.options().model || caps.model || "this model";
    const notes = [this.imageNote, caps.mask === false ? `Model ${model} does not take a mask.` : ""].filter(Boolean);
    this.note.textContent = notes.join(" ");
    this.note.hidden = notes.length === 0;
    const offered = caps.markup === true;
    this.tools.offerMarkup(offered || this.tools.layer === "markup");
    if (!offered && this.tools.layer === "markup" && !this.stage.edits?.markup.count) this.switchLayer("mask");
    this.result.sync();
    showProblem(this.problem, this.stage.paint, this.ctx.problems().mask ?? this.ctx.problems().markup);
    this.stage.layout();
  }

  cleanup(): void {
    this.io.cancel();
    this.baseJobs.cancel();
    this.interaction.cancel();
  }
}

export function renderMask(ctx: Ctx): View {
  const editor = new MaskEditor(ctx);
  ctx.onChange(["mask_base"], () => editor.onBase());
  ctx.onChange(["mask"], () => editor.onTrait("mask"));
  ctx.onChange(["markup"], () => editor.onTrait("markup"));
  ctx.onChange(["options", "capabilities", "problems"], () => editor.sync());
  editor.start();
  return { el: editor.section, cleanup: () => editor.cleanup() };
}
