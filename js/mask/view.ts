// The mask editor view: paint on the first input image (`mask_base`) where it should change. The
// bits live in a MaskRaster at the image's native resolution; every finished edit writes the exact
// PNG (codec.ts) to the `mask` trait, or an empty one when nothing is painted. A new base image resets
// the mask; a `mask` written by someone else (the kernel) is followed.

import { blobOf, bytesEqual } from "../bytes";
import type { Ctx, View } from "../ctx";
import { h, uid } from "../dom";
import { maskShown, problemSlot, showProblem } from "../problems";
import { decodeMask, encodeMask } from "./codec";
import { type EditCommand, MaskEdits } from "./history";
import { MaskRaster } from "./raster";
import { MaskStage } from "./stage";
import { MaskTools } from "./tools";

const EMPTY = new Uint8Array(0);
const MAX_PIXELS = 64 * 1024 * 1024;

/** Numbered async jobs of one kind: a job whose number is no longer the latest is stale. */
class Jobs {
  private n = 0;
  start(): number {
    return ++this.n;
  }
  cancel(): void {
    this.n++;
  }
  stale(job: number): boolean {
    return job !== this.n;
  }
}

class MaskEditor {
  readonly section: HTMLElement;
  private readonly stage: MaskStage;
  private readonly tools: MaskTools;
  private readonly info = h("p", { class: "iw-mask-info", attrs: { "aria-live": "polite", "data-role": "mask-info" } });
  private readonly note = h("p", { class: "iw-mask-note" });
  private readonly problem = problemSlot("mask");
  /** The mask and its undo history while a base image is shown. */
  private edits: MaskEdits | null = null;
  /** Async work that a newer event makes stale: decoding the base image, encoding, decoding `mask`. */
  private readonly baseJobs = new Jobs();
  private readonly encodeJobs = new Jobs();
  private readonly loadJobs = new Jobs();
  private baseBytes: Uint8Array = EMPTY;
  private seenBase = false;
  /** The `mask` bytes we wrote last (or loaded): a change event with them is our own echo. */
  private lastWritten: Uint8Array = EMPTY;
  private imageNote = "";

  constructor(private readonly ctx: Ctx) {
    this.stage = new MaskStage(ctx, {
      brush: () => this.tools.brush,
      erasing: () => this.tools.erasing,
      strokeDone: (changed) => {
        if (!this.edits?.stroke(changed)) return;
        this.refresh();
        this.emit();
      },
    });
    this.tools = new MaskTools(ctx, {
      command: (c) => this.command(c),
      brush: (size) => this.stage.showBrush(size),
      tool: (erasing) => this.stage.showTool(erasing),
      opacity: (value) => this.stage.setOpacity(value),
    });
    const headingId = uid("mask");
    this.section = h("section", { class: "iw-mask", attrs: { "aria-labelledby": headingId } }, [
      h("div", { class: "iw-section-head" }, [
        h("h3", { text: "Mask", attrs: { id: headingId } }),
        h("span", { class: "iw-hint", text: "paint where the first image should change" }),
      ]),
      this.tools.el,
      this.stage.el,
      this.info,
      this.note,
      this.problem,
    ]);
    this.section.hidden = true;
    ctx.listen<KeyboardEvent>(this.section, "keydown", (e) => this.onKey(e));
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
    if (this.tools.key(e.key)) e.preventDefault();
  }

  // ------------------------------------------------------------------------------------ edits
  private command(c: EditCommand): void {
    if (!this.edits?.run(c)) return;
    this.stage.flush();
    this.refresh();
    this.emit();
  }

  private refresh(): void {
    const r = this.edits?.raster;
    const history = this.edits?.history;
    this.tools.refresh({
      canUndo: !!history?.canUndo,
      canRedo: !!history?.canRedo,
      painted: !!r && r.count > 0,
      loaded: !!r,
    });
    if (!r) {
      this.info.textContent = "";
      delete this.section.dataset.painted;
      return;
    }
    const pct = (100 * r.count) / (r.width * r.height);
    const share = r.count === 0 ? "nothing painted" : `${pct < 0.1 ? pct.toFixed(2) : pct.toFixed(1)}% painted`;
    this.info.textContent = `${r.width}×${r.height} px · ${share}`;
    this.section.dataset.painted = String(r.count);
  }

  private write(bytes: Uint8Array): void {
    this.lastWritten = bytes;
    this.ctx.setBytes("mask", bytes);
    this.section.dataset.writes = String(Number(this.section.dataset.writes ?? "0") + 1);
  }

  /** Send the mask: an empty trait when nothing is painted, else the exact PNG. */
  private emit(): void {
    const job = this.encodeJobs.start();
    const r = this.edits?.raster;
    if (!r || r.count === 0) {
      this.write(EMPTY);
      return;
    }
    encodeMask(r.bits, r.width, r.height).then(
      (bytes) => {
        if (!this.encodeJobs.stale(job) && !this.ctx.disposed) this.write(bytes);
      },
      (err: unknown) => this.ctx.notice(`Could not encode the mask: ${String(err)}`, "warning"),
    );
  }

  // ------------------------------------------------------------------------------ base image
  private unload(): void {
    this.edits = null;
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
    this.encodeJobs.cancel();
    this.loadJobs.cancel();
    this.unload();
    this.imageNote = "";
    // The old mask belongs to the old image: reset it (a first render keeps a mask already stored).
    if (!first && this.ctx.bytes("mask").byteLength) this.write(EMPTY);
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
    this.edits = new MaskEdits(new MaskRaster(width, height));
    this.stage.attach(this.edits.raster, bitmap);
    bitmap.close();
    this.tools.fit(width, height);
    this.refresh();
    this.section.dataset.ready = "1";
    const stored = this.ctx.bytes("mask");
    if (first && stored.byteLength) this.loadMask(stored.slice()).catch(() => undefined);
  }

  // ------------------------------------------------------------------------------ mask trait
  private async loadMask(bytes: Uint8Array): Promise<void> {
    const job = this.loadJobs.start();
    const mask = await decodeMask(bytes);
    const edits = this.edits;
    if (this.loadJobs.stale(job) || this.ctx.disposed || !edits) return;
    if (mask.width !== edits.raster.width || mask.height !== edits.raster.height) return;
    edits.replace(mask.bits);
    this.lastWritten = bytes;
    this.stage.flush();
    this.refresh();
  }

  /** Someone else (the kernel, another view) changed `mask`: follow it. */
  onMaskTrait(): void {
    const bytes = this.ctx.bytes("mask");
    if (bytesEqual(bytes, this.lastWritten)) return;
    this.encodeJobs.cancel();
    if (bytes.byteLength) {
      if (this.edits) this.loadMask(bytes.slice()).catch(() => undefined);
      return;
    }
    this.loadJobs.cancel();
    this.lastWritten = EMPTY;
    if (this.edits && this.edits.raster.count) {
      this.edits.replace(null);
      this.stage.flush();
      this.refresh();
    }
  }

  /** Shown only in edit mode with a base image; notes and the mask problem. */
  sync(): void {
    this.section.hidden = !maskShown(this.ctx);
    const caps = this.ctx.caps();
    const model = this.ctx.options().model || caps.model || "this model";
    const notes = [this.imageNote, caps.mask === false ? `Model ${model} does not take a mask.` : ""].filter(Boolean);
    this.note.textContent = notes.join(" ");
    this.note.hidden = notes.length === 0;
    showProblem(this.problem, this.stage.paint, this.ctx.problems().mask);
  }

  cleanup(): void {
    this.encodeJobs.cancel();
    this.loadJobs.cancel();
    this.baseJobs.cancel();
    this.stage.cancelStroke();
  }
}

export function renderMask(ctx: Ctx): View {
  const editor = new MaskEditor(ctx);
  ctx.onChange(["mask_base"], () => editor.onBase());
  ctx.onChange(["mask"], () => editor.onMaskTrait());
  ctx.onChange(["options", "capabilities", "problems"], () => editor.sync());
  editor.start();
  return { el: editor.section, cleanup: () => editor.cleanup() };
}
