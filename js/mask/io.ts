// The `mask` and `markup` traits: every finished edit writes the exact PNG (codec.ts) of its layer,
// or empty bytes when the layer is empty; bytes the kernel writes are followed. Encodes and decodes
// are numbered jobs, so a newer event makes an older one stale. Our own echoes are recognised.

import { bytesEqual } from "../bytes";
import type { Ctx } from "../ctx";
import { decodeMask, decodePixels, encodeMask, encodePng } from "./codec";
import type { Layer, MaskEdits } from "./history";

const EMPTY = new Uint8Array(0);

/** Numbered async jobs of one kind: a job whose number is no longer the latest is stale. */
export class Jobs {
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

export class LayerIO {
  private readonly encode = { mask: new Jobs(), markup: new Jobs() };
  private readonly load = { mask: new Jobs(), markup: new Jobs() };
  /** The bytes we wrote (or loaded) last: a change event with them is our own echo. */
  private readonly last: Record<Layer, Uint8Array> = { mask: EMPTY, markup: EMPTY };

  constructor(
    private readonly ctx: Ctx,
    private readonly section: HTMLElement,
    /** The layers now shown (null while there is no base image). */
    private readonly edits: () => MaskEdits | null,
    /** A trait was loaded into a layer: redraw. */
    private readonly loaded: () => void,
  ) {}

  cancel(): void {
    for (const l of ["mask", "markup"] as Layer[]) {
      this.encode[l].cancel();
      this.load[l].cancel();
    }
  }

  private write(layer: Layer, bytes: Uint8Array): void {
    this.last[layer] = bytes;
    this.ctx.setBytes(layer, bytes);
    const key = layer === "mask" ? "writes" : "markupWrites";
    this.section.dataset[key] = String(Number(this.section.dataset[key] ?? "0") + 1);
  }

  /** Clear a trait that belonged to an older image (only if it holds something). */
  clear(layer: Layer): void {
    this.encode[layer].cancel();
    this.load[layer].cancel();
    if (this.ctx.bytes(layer).byteLength) this.write(layer, EMPTY);
    else this.last[layer] = EMPTY;
  }

  /** Send a layer: empty bytes when nothing is on it, else the exact PNG. */
  emit(layer: Layer): void {
    const job = this.encode[layer].start();
    const e = this.edits();
    const count = layer === "mask" ? e?.raster.count : e?.markup.count;
    if (!e || !count) {
      this.write(layer, EMPTY);
      return;
    }
    const { width, height } = e.raster;
    const png = layer === "mask" ? encodeMask(e.raster.bits, width, height) : encodePng(e.markup.rgba.slice(), width, height);
    png.then(
      (bytes) => {
        if (!this.encode[layer].stale(job) && !this.ctx.disposed) this.write(layer, bytes);
      },
      (err: unknown) => this.ctx.notice(`Could not encode the ${layer}: ${String(err)}`, "warning"),
    );
  }

  /** Load what the trait holds into its layer (first render, or the kernel wrote it). */
  async read(layer: Layer): Promise<void> {
    const bytes = this.ctx.bytes(layer).slice();
    const job = this.load[layer].start();
    const e = this.edits();
    if (!bytes.byteLength) {
      this.last[layer] = EMPTY;
      if (e && (layer === "mask" ? e.raster.count : e.markup.count)) {
        if (layer === "mask") e.replace(null);
        else {
          e.markup.reset();
          e.history.clear();
        }
        this.loaded();
      }
      return;
    }
    if (!e) return;
    if (layer === "mask") {
      const mask = await decodeMask(bytes);
      const now = this.edits();
      if (this.load.mask.stale(job) || this.ctx.disposed || !now) return;
      if (mask.width !== now.raster.width || mask.height !== now.raster.height) return;
      now.replace(mask.bits);
    } else {
      const pixels = await decodePixels(bytes);
      const now = this.edits();
      if (this.load.markup.stale(job) || this.ctx.disposed || !now) return;
      if (pixels.width !== now.raster.width || pixels.height !== now.raster.height) return;
      now.markup.load(pixels.data);
      now.history.clear();
    }
    this.last[layer] = bytes;
    this.loaded();
  }

  /** Someone else (the kernel, another view) changed a trait: follow it unless it is our echo. */
  changed(layer: Layer): void {
    if (bytesEqual(this.ctx.bytes(layer), this.last[layer])) return;
    this.encode[layer].cancel();
    this.read(layer).catch(() => undefined);
  }
}
