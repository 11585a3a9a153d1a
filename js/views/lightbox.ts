// The lightbox: a modal dialog showing a result or history image, first as its thumbnail, then at full
// resolution once the `fetch_image` reply arrives, with Edit / Use as reference / Download actions.
// While open it lives in a portal on <body>: notebook cells may use CSS containment, which would trap a
// position:fixed overlay inside the cell. The portal carries the root class so styles still apply.

import { type Ctx, ignoreAbort, type View } from "../ctx";
import { button, h, uid } from "../dom";
import { downloadImage, fetchFullImage } from "./full-image";

/** What the lightbox shows until (and around) the full image. */
export interface Shown {
  id: string;
  thumb: Uint8Array;
  title: string;
  detail: string;
  format?: string | undefined;
  width?: number | undefined;
  height?: number | undefined;
}

export class Lightbox implements View {
  /** The portal (not placed in the widget root). */
  readonly el: HTMLElement;
  private readonly dialog: HTMLElement;
  private readonly img = h("img", { class: "iw-lightbox-img", attrs: { alt: "" } });
  private readonly status = h("p", { class: "iw-lightbox-status", attrs: { "aria-live": "polite" } });
  private readonly title = h("p", { class: "iw-lightbox-title", attrs: { id: uid("lightbox") } });
  private readonly detail = h("p", { class: "iw-lightbox-detail" });
  private readonly closeBtn = button("Close", {
    class: "iw-lightbox-close",
    attrs: { "data-action": "close", "aria-label": "Close enlarged image" },
  });
  private current: Shown | null = null;
  private fetching: AbortController | null = null;
  private url: string | null = null;
  private opener: HTMLElement | null = null;

  constructor(private readonly ctx: Ctx) {
    const edit = button("Edit this", { attrs: { "data-action": "edit" } });
    const reference = button("Use as reference", { attrs: { "data-action": "reference" } });
    const download = button("Download", { attrs: { "data-action": "download" } });
    const panel = h("div", { class: "iw-lightbox-panel" }, [
      h("div", { class: "iw-lightbox-figure" }, [this.img]),
      h("div", { class: "iw-lightbox-side" }, [
        this.title,
        this.detail,
        this.status,
        h("div", { class: "iw-lightbox-actions" }, [edit, reference, download, this.closeBtn]),
      ]),
    ]);
    this.dialog = h(
      "div",
      { class: "iw-lightbox", attrs: { role: "dialog", "aria-modal": "true", "aria-labelledby": this.title.id, tabindex: -1 } },
      [panel],
    );
    this.dialog.hidden = true;
    this.el = h("div", { class: "image-widget iw-portal", attrs: { "data-lm-suppress-shortcuts": "true" } }, [this.dialog]);

    ctx.listen(this.closeBtn, "click", () => this.close());
    ctx.listen<MouseEvent>(this.dialog, "click", (e) => {
      if (e.target === this.dialog) this.close();
    });
    ctx.listen<KeyboardEvent>(this.dialog, "keydown", (e) => this.onKey(e));
    ctx.listen(edit, "click", () => {
      if (!this.current) return;
      ctx.send({ type: "use_as_input", id: this.current.id, role: "edit" });
      this.close();
    });
    ctx.listen(reference, "click", () => {
      if (this.current) ctx.send({ type: "use_as_input", id: this.current.id, role: "reference" });
    });
    ctx.listen(download, "click", () => {
      if (this.current) downloadImage(ctx, this.current.id, this.current.format, download);
    });
  }

  /** Escape closes; Tab stays inside the dialog while it is open. */
  private onKey(e: KeyboardEvent): void {
    if (e.key === "Escape" && !this.dialog.hidden) {
      e.preventDefault();
      e.stopPropagation();
      this.close();
      return;
    }
    if (e.key !== "Tab") return;
    const items = Array.from(this.dialog.querySelectorAll<HTMLButtonElement>("button:not([disabled])"));
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  private setImage(url: string | null): void {
    const old = this.url;
    this.url = url;
    if (url) this.img.src = url;
    else this.img.removeAttribute("src");
    this.ctx.revoke(old);
  }

  open(item: Shown, from: HTMLElement | null): void {
    this.current = item;
    this.opener = from;
    this.title.textContent = item.title || "Image";
    this.detail.textContent = item.detail;
    this.img.alt = item.title || "enlarged image";
    // Reserve the full image's box (when its size is known) so the panel does not jump when the
    // full-resolution bytes replace the thumbnail.
    if (item.width && item.height) {
      this.img.style.width = `${item.width}px`;
      this.img.style.aspectRatio = `${item.width} / ${item.height}`;
    } else {
      this.img.style.removeProperty("width");
      this.img.style.removeProperty("aspect-ratio");
    }
    this.setImage(item.thumb.byteLength ? this.ctx.url(item.thumb) : null);
    this.dialog.dataset.full = "0";
    this.dialog.dataset.id = item.id;
    this.status.textContent = "Loading the full image…";
    this.dialog.hidden = false;
    if (!this.el.isConnected) document.body.append(this.el);
    this.loadFull(item.id);
    this.closeBtn.focus();
  }

  private loadFull(id: string): void {
    this.fetching?.abort();
    const fetching = new AbortController();
    this.fetching = fetching;
    fetchFullImage(this.ctx, id, { signal: fetching.signal, tag: "view" }).then((image) => {
      if (fetching.signal.aborted) return;
      this.fetching = null;
      if (image.why !== undefined) {
        this.status.textContent = image.why;
        return;
      }
      this.setImage(this.ctx.url(image.bytes, image.mime));
      this.dialog.dataset.full = "1";
      this.status.textContent = "";
    }, ignoreAbort);
  }

  close(): void {
    if (this.dialog.hidden) return;
    this.dialog.hidden = true;
    this.el.remove();
    this.fetching?.abort();
    this.fetching = null;
    this.current = null;
    this.setImage(null);
    delete this.dialog.dataset.id;
    const back = this.opener;
    this.opener = null;
    if (back && back.isConnected) back.focus();
  }

  cleanup(): void {
    this.fetching?.abort();
    this.fetching = null;
    this.el.remove();
  }
}
