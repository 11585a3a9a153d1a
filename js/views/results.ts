// Results of the latest run side by side, each with Edit / Use as reference / Download / Copy code and
// an enlarge button that opens the lightbox. Thumbnails only live in traits. A run's images are shown full size
// as soon as the kernel has saved them (`results_saved`, a message: before it decodes them or makes the
// thumbnails), and stay so when the run's thumbnails arrive; the next run's replace them.

import { toBytes } from "../bytes";
import type { Ctx, View } from "../ctx";
import { UrlBatch } from "../url-batch";
import { button, h, uid } from "../dom";
import type { ResultItem, ResultsSaved } from "../protocol";
import { flash } from "./flash";
import { downloadImage } from "./full-image";
import type { Lightbox } from "./lightbox";

function describe(r: Shown): string {
  const dims = r.width && r.height ? `${r.width}×${r.height}` : r.size ?? "";
  return [dims, r.model, r.quality, r.format, r.cost_text].filter(Boolean).join(" · ");
}

type Shown = Omit<ResultItem, "thumb"> & { thumb?: ResultItem["thumb"] };

function card(r: Shown, index: number, total: number, src: string): HTMLElement {
  const alt = r.prompt ? `Result ${index + 1}: ${r.prompt}` : `Result ${index + 1}`;
  const img = h("img", { attrs: { alt, draggable: "false" } });
  if (src) img.src = src;
  const enlarge = h("button", {
    class: "iw-result-thumb",
    attrs: { type: "button", "data-action": "enlarge", "aria-label": `Enlarge result ${index + 1} of ${total}` },
  }, [img]);
  if (r.width && r.height) enlarge.style.aspectRatio = `${r.width} / ${r.height}`;
  const copy = button("Copy code", { attrs: { "data-action": "copy-code", title: "Copy the Python call that reproduces this image" } });
  if (!r.code) {
    copy.disabled = true;
    copy.title = "No code for this result";
  }
  const actions = h("div", { class: "iw-result-actions" }, [
    button("Edit this", { attrs: { "data-action": "edit", title: "Make this the image to edit (mode → edit)" } }),
    button("Use as reference", { attrs: { "data-action": "reference", title: "Add this to the input images" } }),
    button("Download", { attrs: { "data-action": "download", title: "Download the full-resolution image" } }),
    copy,
  ]);
  return h("li", { class: "iw-result", attrs: { "data-result-id": r.id, "data-index": index } }, [
    enlarge,
    h("p", { class: "iw-result-meta", text: describe(r) }),
    actions,
    h("span", { class: "iw-sr-only", attrs: { role: "status", "data-role": "copy-status" } }),
  ]);
}

/**
 * Copy with the clipboard API, or select the code in a textarea on the card for Ctrl+C. The button
 * that was used says how it went (issue 14: not a toast in a far corner), and the card's status
 * region tells screen readers.
 */
function copyCode(ctx: Ctx, code: string, li: HTMLElement, btn: HTMLButtonElement): void {
  const status = li.querySelector<HTMLElement>('[data-role="copy-status"]');
  const copied = (): void => flash(ctx, btn, { label: "Copied ✓", state: "copied", said: "Code copied", status });
  const fallback = (): void => {
    let box = li.querySelector<HTMLTextAreaElement>("textarea.iw-code");
    if (!box) {
      box = h("textarea", {
        class: "iw-code",
        attrs: { readonly: true, rows: 4, "aria-label": "Python code for this image", spellcheck: "false" },
      });
      li.append(box);
    }
    box.value = code;
    box.hidden = false;
    box.focus();
    box.select();
    let done = false;
    try {
      done = document.execCommand("copy");
    } catch {
      done = false;
    }
    if (done) copied();
    else flash(ctx, btn, { label: "Press Ctrl+C", state: "selected", said: "Code selected: press Ctrl+C to copy", status, ms: 4000 });
  };
  const clip = navigator.clipboard as Clipboard | undefined;
  if (clip && typeof clip.writeText === "function") clip.writeText(code).then(copied, fallback);
  else fallback();
}

export function renderResults(ctx: Ctx, lightbox: Lightbox): View {
  const list = h("ol", { class: "iw-results-list", attrs: { "aria-label": "Results" } });
  const headId = uid("results");
  const count = h("span", { class: "iw-hint" });
  const el = h("section", { class: "iw-results", attrs: { "aria-labelledby": headId } }, [
    h("div", { class: "iw-section-head" }, [h("h3", { text: "Results", attrs: { id: headId } }), count]),
    list,
  ]);
  const urls = new UrlBatch(ctx);
  let shown: Shown[] = [];
  let full = new Map<string, string>(); // result id → data: URL of the saved image (`results_saved`)
  let provisional = false; // shown from `results_saved`, the run's `results` not yet in

  const draw = (items: Shown[], src: (r: Shown, url: (b: Uint8Array) => string) => string): void => {
    shown = items;
    urls.render((url) => list.replaceChildren(...items.map((r, i) => card(r, i, items.length, src(r, url)))));
    el.hidden = items.length === 0;
    count.textContent = items.length ? `${items.length} image${items.length === 1 ? "" : "s"}` : "";
    ctx.root.dataset.results = String(items.length);
  };
  const render = (): void => {
    provisional = false;
    const items = ctx.list("results");
    if (!items.length || !items.every((r) => full.has(r.id))) full = new Map(); // another run's: thumbnails
    draw(items, (r, url) => {
      const bytes = toBytes(r.thumb);
      return full.get(r.id) ?? (bytes.byteLength ? url(bytes) : "");
    });
  };
  const saved = (msg: ResultsSaved): void => {
    // data: URLs, loaded in the page itself (a blob: URL's bytes pass through the browser process first)
    full = new Map(msg.items.map((r) => [r.id, `data:${r.mime};base64,${r.b64}`]));
    draw(msg.items, (r) => full.get(r.id) ?? "");
    provisional = true;
    // Drawn: the kernel's decodes and thumbnails, held back meanwhile (runs.py `show_saved`), may take the cores.
    const drawn = [...list.querySelectorAll("img")].map((img) => img.decode().catch(() => undefined));
    void Promise.all(drawn).then(() => ctx.send({ type: "results_shown", job_id: msg.job_id }));
  };
  ctx.onMessage((msg) => {
    if (msg.type === "results_saved") saved(msg);
  });

  ctx.listen<MouseEvent>(list, "click", (e) => {
    const btn = (e.target as Element | null)?.closest<HTMLButtonElement>("button[data-action]");
    const li = btn?.closest<HTMLElement>("[data-result-id]");
    if (!btn || !li || btn.disabled) return;
    const r = shown[Number(li.dataset.index)];
    if (!r || r.id !== li.dataset.resultId) return;
    switch (btn.dataset.action) {
      case "enlarge": {
        const item = { id: r.id, thumb: toBytes(r.thumb), title: r.prompt ?? "", detail: describe(r) };
        lightbox.open({ ...item, format: r.format, width: r.width, height: r.height }, btn);
        break;
      }
      case "edit":
        ctx.send({ type: "use_as_input", id: r.id, role: "edit" });
        break;
      case "reference":
        ctx.send({ type: "use_as_input", id: r.id, role: "reference" });
        break;
      case "download":
        downloadImage(ctx, r.id, r.format, btn);
        break;
      case "copy-code":
        copyCode(ctx, r.snippet || r.code || "", li, btn); // the snippet runs pasted anywhere; code is the bare call
        break;
      default:
        break;
    }
  });

  ctx.onChange(["results"], render);
  ctx.onChange(["status"], () => {
    if (provisional && !ctx.running()) render(); // the run ended without its results (failed): the trait's again
  });
  render();
  return { el, cleanup: () => undefined };
}
