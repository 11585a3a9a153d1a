// The mask editor. The mask lives in a Uint8Array at the image's native resolution (1 = edit) and is
// painted with exact integer geometry — discs and capsules (a disc swept along a segment), never
// anti-aliased canvas strokes — so the PNG written to the `mask` trait is strictly binary:
// alpha 0 where the image should change, 255 elsewhere, RGB 0, exactly `mask_base`'s size.
//
// A pixel (x, y) is painted by a brush of diameter D centred at integer (cx, cy) when
// 4·((x−cx)² + (y−cy)²) ≤ D², and by a stroke segment when its distance to the segment is ≤ D/2.

import { blobOf, button, bytesEqual, h, problemSlot, showProblem, uid } from "./dom";
import { type Ctx, type View, maskShown } from "./model";

const EMPTY = new Uint8Array(0);
/** Long segments are split so the integer products stay far below 2^53. */
const MAX_SEGMENT = 1024;
const UNDO_LIMIT = 200;
const MAX_PIXELS = 64 * 1024 * 1024;
/** Overlay colour of painted pixels (the overlay canvas's CSS opacity makes it translucent). */
const OVERLAY_RGB: [number, number, number] = [236, 30, 110];

type Op = { kind: "flip"; idx: Uint32Array } | { kind: "invert" };
interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
function rgba32(r: number, g: number, b: number, a: number): number {
  return LITTLE_ENDIAN ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}
const PAINT_PIXEL = rgba32(...OVERLAY_RGB, 255);

/** The binary mask and its overlay pixels; pure integer raster logic, no DOM. */
export class MaskRaster {
  readonly data: Uint8Array;
  readonly overlay: ImageData;
  private readonly ov32: Uint32Array;
  count = 0;
  dirty: Rect | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height);
    this.overlay = new ImageData(width, height);
    this.ov32 = new Uint32Array(this.overlay.data.buffer);
  }

  private touch(x0: number, y0: number, x1: number, y1: number): void {
    const d = this.dirty;
    if (!d) this.dirty = { x0, y0, x1, y1 };
    else {
      d.x0 = Math.min(d.x0, x0);
      d.y0 = Math.min(d.y0, y0);
      d.x1 = Math.max(d.x1, x1);
      d.y1 = Math.max(d.y1, y1);
    }
  }

  private set(i: number, value: 0 | 1, changed: number[] | null): void {
    if (this.data[i] === value) return;
    this.data[i] = value;
    this.ov32[i] = value ? PAINT_PIXEL : 0;
    this.count += value ? 1 : -1;
    changed?.push(i);
  }

  /** Paint (value 1) or erase (value 0) every pixel within diameter/2 of the segment a–b. */
  segment(ax: number, ay: number, bx: number, by: number, diameter: number, value: 0 | 1, changed: number[]): void {
    const len = Math.hypot(bx - ax, by - ay);
    if (len > MAX_SEGMENT) {
      const parts = Math.ceil(len / MAX_SEGMENT);
      let px = ax;
      let py = ay;
      for (let k = 1; k <= parts; k++) {
        const qx = k === parts ? bx : Math.round(ax + ((bx - ax) * k) / parts);
        const qy = k === parts ? by : Math.round(ay + ((by - ay) * k) / parts);
        this.capsule(px, py, qx, qy, diameter, value, changed);
        px = qx;
        py = qy;
      }
      return;
    }
    this.capsule(ax, ay, bx, by, diameter, value, changed);
  }

  private capsule(ax: number, ay: number, bx: number, by: number, d: number, value: 0 | 1, changed: number[]): void {
    const W = this.width;
    const r = d / 2;
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r));
    const x1 = Math.min(W - 1, Math.ceil(Math.max(ax, bx) + r));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r));
    const y1 = Math.min(this.height - 1, Math.ceil(Math.max(ay, by) + r));
    if (x0 > x1 || y0 > y1) return;
    const d2 = d * d;
    const dx = bx - ax;
    const dy = by - ay;
    const L2 = dx * dx + dy * dy;
    const d2L2 = d2 * L2;
    for (let y = y0; y <= y1; y++) {
      const py = y - ay;
      const qy = y - by;
      const row = y * W;
      for (let x = x0; x <= x1; x++) {
        const px = x - ax;
        const pp = px * px + py * py;
        let inside: boolean;
        if (L2 === 0) inside = 4 * pp <= d2;
        else {
          const dot = px * dx + py * dy;
          if (dot <= 0) inside = 4 * pp <= d2;
          else if (dot >= L2) {
            const qx = x - bx;
            inside = 4 * (qx * qx + qy * qy) <= d2;
          } else inside = 4 * (pp * L2 - dot * dot) <= d2L2;
        }
        if (inside) this.set(row + x, value, changed);
      }
    }
    this.touch(x0, y0, x1, y1);
  }

  apply(op: Op): void {
    if (op.kind === "invert") {
      const { data } = this;
      for (let i = 0; i < data.length; i++) this.set(i, data[i] ? 0 : 1, null);
      this.touch(0, 0, this.width - 1, this.height - 1);
      return;
    }
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const i of op.idx) {
      this.set(i, this.data[i] ? 0 : 1, null);
      const x = i % this.width;
      const y = (i - x) / this.width;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    if (op.idx.length) this.touch(x0, y0, x1, y1);
  }

  /** The op that clears every painted pixel (its own inverse, like every op). */
  clearOp(): Op {
    const idx = new Uint32Array(this.count);
    let k = 0;
    for (let i = 0; i < this.data.length; i++) if (this.data[i]) idx[k++] = i;
    return { kind: "flip", idx };
  }

  /** Replace the whole mask (from a decoded PNG): alpha below 128 = edit. */
  loadAlpha(rgba: Uint8ClampedArray): void {
    for (let i = 0; i < this.data.length; i++) this.set(i, (rgba[i * 4 + 3] as number) < 128 ? 1 : 0, null);
    this.touch(0, 0, this.width - 1, this.height - 1);
  }

  reset(): void {
    this.data.fill(0);
    this.ov32.fill(0);
    this.count = 0;
    this.touch(0, 0, this.width - 1, this.height - 1);
  }

  /** RGBA pixels of the PNG to send: RGB 0, alpha 0 = edit, 255 = keep. */
  pngPixels(): ImageData {
    const out = new ImageData(this.width, this.height);
    const px = new Uint32Array(out.data.buffer);
    const keep = rgba32(0, 0, 0, 255);
    for (let i = 0; i < this.data.length; i++) px[i] = this.data[i] ? 0 : keep;
    return out;
  }
}

/** PNG bytes of exact ImageData (putImageData does not smooth or blend). */
async function encodePng(pixels: ImageData): Promise<Uint8Array> {
  let blob: Blob | null;
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(pixels.width, pixels.height);
    const g = canvas.getContext("2d");
    if (!g) throw new Error("no 2d context");
    g.putImageData(pixels, 0, 0);
    blob = await canvas.convertToBlob({ type: "image/png" });
  } else {
    const canvas = document.createElement("canvas");
    canvas.width = pixels.width;
    canvas.height = pixels.height;
    const g = canvas.getContext("2d");
    if (!g) throw new Error("no 2d context");
    g.putImageData(pixels, 0, 0);
    blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  }
  if (!blob) throw new Error("PNG encoding failed");
  return new Uint8Array(await blob.arrayBuffer());
}

/** RGBA pixels of an image, without premultiplication or colour conversion (for reading masks back). */
async function decodePixels(bytes: Uint8Array): Promise<ImageData> {
  const bitmap = await createImageBitmap(blobOf(bytes), { premultiplyAlpha: "none", colorSpaceConversion: "none" });
  try {
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const g = canvas.getContext("2d", { willReadFrequently: true });
    if (!g) throw new Error("no 2d context");
    g.drawImage(bitmap, 0, 0);
    return g.getImageData(0, 0, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

export interface MaskView extends View {
  section: HTMLElement;
}

export function createMask(ctx: Ctx): MaskView {
  // ------------------------------------------------------------------------------------- DOM
  const headingId = uid("mask");
  const brushBtn = button("Brush", { class: "iw-tool", attrs: { "aria-pressed": "true", "data-action": "brush", title: "Brush (B)" } });
  const eraserBtn = button("Eraser", { class: "iw-tool", attrs: { "aria-pressed": "false", "data-action": "eraser", title: "Eraser (E)" } });
  const sizeInput = h("input", { attrs: { type: "range", min: 1, max: 200, step: 1, value: 40, "data-role": "brush-size" } });
  sizeInput.id = uid("brush");
  const sizeOut = h("output", { class: "iw-brush-size", attrs: { for: sizeInput.id } });
  const opacityInput = h("input", { attrs: { type: "range", min: 0, max: 100, step: 5, value: 55, "data-role": "overlay-opacity" } });
  opacityInput.id = uid("opacity");
  const undoBtn = button("Undo", { attrs: { "data-action": "undo", title: "Undo stroke (Ctrl+Z)" } });
  const redoBtn = button("Redo", { attrs: { "data-action": "redo", title: "Redo stroke (Ctrl+Shift+Z / Ctrl+Y)" } });
  const clearBtn = button("Clear", { attrs: { "data-action": "clear", title: "Remove the whole mask" } });
  const invertBtn = button("Invert", { attrs: { "data-action": "invert", title: "Swap painted and unpainted areas" } });

  const base = h("canvas", { class: "iw-mask-base", attrs: { "aria-hidden": "true" } });
  const paint = h("canvas", {
    class: "iw-mask-paint",
    attrs: {
      tabindex: 0,
      role: "img",
      "aria-label":
        "Mask: drag to paint the area to change. [ and ] change the brush size, B brush, E eraser, Ctrl+Z undo.",
      "data-role": "mask-canvas",
    },
  });
  const cursor = h("div", { class: "iw-brush-cursor", attrs: { "aria-hidden": "true" } });
  cursor.hidden = true;
  const stage = h("div", { class: "iw-mask-stage" }, [base, paint, cursor]);
  const info = h("p", { class: "iw-mask-info", attrs: { "aria-live": "polite", "data-role": "mask-info" } });
  const note = h("p", { class: "iw-mask-note" });
  const problem = problemSlot("mask");

  const section = h("section", { class: "iw-mask", attrs: { "aria-labelledby": headingId } }, [
    h("div", { class: "iw-section-head" }, [
      h("h3", { text: "Mask", attrs: { id: headingId } }),
      h("span", { class: "iw-hint", text: "paint where the first image should change" }),
    ]),
    h("div", { class: "iw-mask-toolbar", attrs: { role: "toolbar", "aria-label": "Mask tools" } }, [
      h("div", { class: "iw-seg iw-tools" }, [brushBtn, eraserBtn]),
      h("label", { class: "iw-slider", attrs: { for: sizeInput.id } }, ["Size"]),
      sizeInput,
      sizeOut,
      h("label", { class: "iw-slider", attrs: { for: opacityInput.id } }, ["Overlay"]),
      opacityInput,
      h("span", { class: "iw-toolbar-gap" }),
      undoBtn,
      redoBtn,
      clearBtn,
      invertBtn,
    ]),
    stage,
    info,
    note,
    problem,
  ]);
  section.hidden = true;

  // ----------------------------------------------------------------------------------- state
  let raster: MaskRaster | null = null;
  let eraser = false;
  let undo: Op[] = [];
  let redo: Op[] = [];
  let baseBytes: Uint8Array = EMPTY;
  let baseSeq = 0;
  let seenBase = false;
  let encodeSeq = 0;
  let loadSeq = 0;
  let lastWritten: Uint8Array = EMPTY;
  let imageNote = "";
  let stroke: { pointerId: number; x: number; y: number; value: 0 | 1; changed: number[] } | null = null;
  const paintCtx = (): CanvasRenderingContext2D | null => paint.getContext("2d");

  const brushSize = (): number => Number(sizeInput.value);
  const setBrushSize = (v: number): void => {
    const max = Number(sizeInput.max);
    sizeInput.value = String(Math.max(1, Math.min(max, Math.round(v))));
    sizeOut.textContent = `${sizeInput.value} px`;
    paint.dataset.brush = sizeInput.value;
    sizeCursor();
  };
  const setTool = (erase: boolean): void => {
    eraser = erase;
    brushBtn.setAttribute("aria-pressed", String(!erase));
    eraserBtn.setAttribute("aria-pressed", String(erase));
    paint.dataset.tool = erase ? "eraser" : "brush";
    cursor.classList.toggle("iw-erasing", erase);
  };

  const flushOverlay = (): void => {
    if (!raster || !raster.dirty) return;
    const { x0, y0, x1, y1 } = raster.dirty;
    raster.dirty = null;
    paintCtx()?.putImageData(raster.overlay, 0, 0, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
  };

  const refresh = (): void => {
    undoBtn.disabled = undo.length === 0;
    redoBtn.disabled = redo.length === 0;
    clearBtn.disabled = !raster || raster.count === 0;
    invertBtn.disabled = !raster;
    if (raster) {
      const pct = (100 * raster.count) / (raster.width * raster.height);
      const share = raster.count === 0 ? "nothing painted" : `${pct < 0.1 ? pct.toFixed(2) : pct.toFixed(1)}% painted`;
      info.textContent = `${raster.width}×${raster.height} px · ${share}`;
      section.dataset.painted = String(raster.count);
    } else {
      info.textContent = "";
      delete section.dataset.painted;
    }
  };

  const write = (bytes: Uint8Array): void => {
    lastWritten = bytes;
    ctx.setBytes("mask", bytes);
    section.dataset.writes = String(Number(section.dataset.writes ?? "0") + 1);
  };

  /** Send the mask: an empty trait when nothing is painted, else the exact PNG. */
  const emit = (): void => {
    const seq = ++encodeSeq;
    if (!raster || raster.count === 0) {
      write(EMPTY);
      return;
    }
    const pixels = raster.pngPixels();
    encodePng(pixels).then(
      (bytes) => {
        if (seq === encodeSeq && !ctx.disposed) write(bytes);
      },
      (err: unknown) => ctx.notice(`Could not encode the mask: ${String(err)}`, "warning"),
    );
  };

  const commit = (op: Op): void => {
    undo.push(op);
    if (undo.length > UNDO_LIMIT) undo.shift();
    redo = [];
  };

  const doUndo = (): void => {
    const op = undo.pop();
    if (!op || !raster) return;
    raster.apply(op);
    redo.push(op);
    flushOverlay();
    refresh();
    emit();
  };
  const doRedo = (): void => {
    const op = redo.pop();
    if (!op || !raster) return;
    raster.apply(op);
    undo.push(op);
    flushOverlay();
    refresh();
    emit();
  };
  const doClear = (): void => {
    if (!raster || raster.count === 0) return;
    const op = raster.clearOp();
    raster.apply(op);
    commit(op);
    flushOverlay();
    refresh();
    emit();
  };
  const doInvert = (): void => {
    if (!raster) return;
    const op: Op = { kind: "invert" };
    raster.apply(op);
    commit(op);
    flushOverlay();
    refresh();
    emit();
  };

  // ---------------------------------------------------------------------------- base image
  const setup = (width: number, height: number): void => {
    raster = new MaskRaster(width, height);
    undo = [];
    redo = [];
    stroke = null;
    for (const c of [base, paint]) {
      c.width = width;
      c.height = height;
    }
    paint.dataset.width = String(width);
    paint.dataset.height = String(height);
    stage.style.aspectRatio = `${width} / ${height}`;
    stage.style.width = `min(100%, calc(min(70vh, 640px) * ${width / height}))`;
    const max = Math.max(16, Math.min(512, Math.round(Math.max(width, height) / 3)));
    sizeInput.max = String(max);
    setBrushSize(Math.max(2, Math.min(max, Math.round(Math.min(width, height) / 16))));
    paintCtx()?.clearRect(0, 0, width, height);
    refresh();
  };

  const unload = (): void => {
    raster = null;
    undo = [];
    redo = [];
    stroke = null;
    base.width = base.height = paint.width = paint.height = 0;
    delete section.dataset.ready;
    refresh();
  };

  const loadMaskTrait = async (bytes: Uint8Array): Promise<void> => {
    const seq = ++loadSeq;
    const pixels = await decodePixels(bytes);
    if (seq !== loadSeq || ctx.disposed || !raster) return;
    if (pixels.width !== raster.width || pixels.height !== raster.height) return;
    raster.loadAlpha(pixels.data);
    undo = [];
    redo = [];
    lastWritten = bytes;
    flushOverlay();
    refresh();
  };

  const onBase = (): void => {
    const bytes = ctx.bytes("mask_base");
    if (bytesEqual(bytes, baseBytes)) return;
    const first = !seenBase;
    seenBase = true;
    baseBytes = bytes.slice();
    const seq = ++baseSeq;
    encodeSeq++;
    loadSeq++;
    unload();
    imageNote = "";
    // The old mask belongs to the old image: reset it (a first render keeps a mask already stored).
    if (!first && ctx.bytes("mask").byteLength) write(EMPTY);
    if (!bytes.byteLength) {
      sync();
      return;
    }
    createImageBitmap(blobOf(bytes)).then(
      (bitmap) => {
        if (seq !== baseSeq || ctx.disposed) {
          bitmap.close();
          return;
        }
        if (bitmap.width * bitmap.height > MAX_PIXELS) {
          imageNote = `The image is too large to paint a mask on (${bitmap.width}×${bitmap.height}).`;
          bitmap.close();
          sync();
          return;
        }
        setup(bitmap.width, bitmap.height);
        base.getContext("2d")?.drawImage(bitmap, 0, 0);
        bitmap.close();
        section.dataset.ready = "1";
        const stored = ctx.bytes("mask");
        if (first && stored.byteLength) {
          loadMaskTrait(stored.slice()).catch(() => undefined);
        }
        sync();
      },
      () => {
        if (seq !== baseSeq) return;
        imageNote = "The first input image could not be decoded for the mask editor.";
        sync();
      },
    );
  };

  /** Someone else (the kernel, another view) changed `mask`: follow it. */
  const onMaskTrait = (): void => {
    const bytes = ctx.bytes("mask");
    if (bytesEqual(bytes, lastWritten)) return;
    encodeSeq++;
    if (!bytes.byteLength) {
      loadSeq++;
      lastWritten = EMPTY;
      if (raster && raster.count) {
        raster.reset();
        undo = [];
        redo = [];
        flushOverlay();
        refresh();
      }
      return;
    }
    if (raster) loadMaskTrait(bytes.slice()).catch(() => undefined);
  };

  // -------------------------------------------------------------------------------- pointer
  const toNative = (e: PointerEvent | MouseEvent): { x: number; y: number } => {
    const rect = paint.getBoundingClientRect();
    const w = raster?.width ?? 1;
    const hgt = raster?.height ?? 1;
    return {
      x: Math.floor(((e.clientX - rect.left) * w) / rect.width),
      y: Math.floor(((e.clientY - rect.top) * hgt) / rect.height),
    };
  };

  const sizeCursor = (): void => {
    const rect = paint.getBoundingClientRect();
    if (!raster || !rect.width) return;
    const px = (brushSize() * rect.width) / raster.width;
    cursor.style.width = cursor.style.height = `${Math.max(2, px)}px`;
  };
  const moveCursor = (e: PointerEvent): void => {
    const rect = stage.getBoundingClientRect();
    cursor.style.left = `${e.clientX - rect.left}px`;
    cursor.style.top = `${e.clientY - rect.top}px`;
    cursor.hidden = e.pointerType === "touch";
  };

  ctx.listen<PointerEvent>(paint, "pointerdown", (e) => {
    if (!raster || stroke) return;
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    paint.focus({ preventScroll: true });
    try {
      paint.setPointerCapture(e.pointerId);
    } catch {
      // the pointer may already be gone; painting still works while it is over the canvas
    }
    const { x, y } = toNative(e);
    // A pen's eraser end reports button 5: it erases whatever tool is selected.
    const erase = eraser || (e.pointerType === "pen" && e.button === 5);
    stroke = { pointerId: e.pointerId, x, y, value: erase ? 0 : 1, changed: [] };
    raster.segment(x, y, x, y, brushSize(), stroke.value, stroke.changed);
    flushOverlay();
    sizeCursor();
    moveCursor(e);
  });

  ctx.listen<PointerEvent>(paint, "pointermove", (e) => {
    moveCursor(e);
    if (!stroke || !raster || e.pointerId !== stroke.pointerId) return;
    const samples = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const ev of samples.length ? samples : [e]) {
      const { x, y } = toNative(ev);
      if (x === stroke.x && y === stroke.y) continue;
      raster.segment(stroke.x, stroke.y, x, y, brushSize(), stroke.value, stroke.changed);
      stroke.x = x;
      stroke.y = y;
    }
    flushOverlay();
  });

  const endStroke = (e: PointerEvent): void => {
    if (!stroke || e.pointerId !== stroke.pointerId) return;
    const done = stroke;
    stroke = null;
    if (paint.hasPointerCapture(e.pointerId)) paint.releasePointerCapture(e.pointerId);
    if (!done.changed.length) return;
    commit({ kind: "flip", idx: Uint32Array.from(done.changed) });
    refresh();
    emit();
  };
  ctx.listen(paint, "pointerup", endStroke);
  ctx.listen(paint, "pointercancel", endStroke);
  ctx.listen(paint, "lostpointercapture", endStroke);
  ctx.listen<PointerEvent>(paint, "pointerenter", (e) => {
    sizeCursor();
    moveCursor(e);
  });
  ctx.listen(paint, "pointerleave", () => {
    if (!stroke) cursor.hidden = true;
  });

  // ------------------------------------------------------------------------------- keyboard
  ctx.listen<KeyboardEvent>(section, "keydown", (e) => {
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (mod && !e.altKey && key === "z") {
      e.preventDefault();
      if (e.shiftKey) doRedo();
      else doUndo();
      return;
    }
    if (mod && !e.altKey && key === "y") {
      e.preventDefault();
      doRedo();
      return;
    }
    if (e.target !== paint || mod || e.altKey) return;
    const step = Math.max(1, Math.round(brushSize() * 0.15));
    if (e.key === "[") setBrushSize(brushSize() - step);
    else if (e.key === "]") setBrushSize(brushSize() + step);
    else if (key === "b") setTool(false);
    else if (key === "e") setTool(true);
    else return;
    e.preventDefault();
  });

  ctx.listen(brushBtn, "click", () => setTool(false));
  ctx.listen(eraserBtn, "click", () => setTool(true));
  ctx.listen(sizeInput, "input", () => setBrushSize(brushSize()));
  ctx.listen(opacityInput, "input", () => {
    paint.style.opacity = String(Number(opacityInput.value) / 100);
  });
  ctx.listen(undoBtn, "click", doUndo);
  ctx.listen(redoBtn, "click", doRedo);
  ctx.listen(clearBtn, "click", doClear);
  ctx.listen(invertBtn, "click", doInvert);

  // ----------------------------------------------------------------------------------- sync
  const sync = (): void => {
    section.hidden = !maskShown(ctx);
    const caps = ctx.caps();
    const model = ctx.options().model || caps.model || "this model";
    const notes = [imageNote, caps.mask === false ? `Model ${model} does not take a mask.` : ""].filter(Boolean);
    note.textContent = notes.join(" ");
    note.hidden = notes.length === 0;
    showProblem(problem, paint, ctx.problems().mask);
  };

  ctx.onChange(["mask_base"], onBase);
  ctx.onChange(["mask"], onMaskTrait);
  ctx.onChange(["options", "capabilities", "problems"], sync);
  paint.style.opacity = String(Number(opacityInput.value) / 100);
  setTool(false);
  setBrushSize(brushSize());
  refresh();
  onBase();
  sync();

  return {
    section,
    dispose: () => {
      encodeSeq++;
      loadSeq++;
      baseSeq++;
      stroke = null;
    },
  };
}
