// Live partial previews of the running job. Each distinct image counts once per run (`data-preview` on
// the root); a new run (job id or start time changed) counts from zero, and the figure goes when the
// run ends.

import { hashBytes } from "../bytes";
import type { Ctx, View } from "../ctx";
import { h } from "../dom";

class Preview {
  readonly el: HTMLElement;
  private readonly img = h("img", { attrs: { alt: "Partial preview of the image being generated" } });
  private readonly caption = h("figcaption", {});
  private url: string | null = null;
  private seen = new Set<string>();
  private runKey: string | null = null;

  constructor(private readonly ctx: Ctx) {
    this.el = h("figure", { class: "iw-preview", attrs: { "data-role": "preview" } }, [this.img, this.caption]);
    this.el.hidden = true;
  }

  private setCount(): void {
    this.ctx.root.dataset.preview = String(this.seen.size);
  }

  private clearImage(): void {
    this.ctx.revoke(this.url);
    this.url = null;
    this.img.removeAttribute("src");
    this.el.hidden = true;
  }

  onStatus(): void {
    const s = this.ctx.status();
    if (s.state !== "running") {
      this.runKey = null;
      this.clearImage();
      return;
    }
    const key = this.ctx.runKey();
    if (key === this.runKey) return;
    // A new run: previews count from zero.
    this.seen = new Set();
    this.setCount();
    this.clearImage();
    this.runKey = key;
    this.onPreview();
  }

  onPreview(): void {
    const bytes = this.ctx.bytes("preview");
    if (!bytes.byteLength) {
      if (!this.ctx.running()) this.clearImage();
      return;
    }
    const key = hashBytes(bytes);
    if (this.seen.has(key) && this.url) return;
    this.seen.add(key);
    this.setCount();
    const old = this.url;
    this.url = this.ctx.url(bytes);
    this.img.src = this.url;
    this.ctx.revoke(old);
    this.caption.textContent = `Preview ${this.seen.size}`;
    this.el.hidden = false;
  }

  start(): void {
    this.setCount();
    this.onStatus();
    this.onPreview();
  }
}

export function renderPreview(ctx: Ctx): View {
  const preview = new Preview(ctx);
  ctx.onChange(["status"], () => preview.onStatus());
  ctx.onChange(["preview"], () => preview.onPreview());
  preview.start();
  return { el: preview.el, cleanup: () => undefined };
}
