// Results of the latest run side by side, a lightbox that fetches the full image on demand
// (`fetch_image` → `{type: "image"}` reply with one buffer), per-result actions, and the history
// strip of earlier runs. Thumbnails only live in traits; full images stay in the kernel until asked for.

import { button, h, randomId, sniffMime, toBytes, uid } from "./dom";
import type { Ctx, HistoryRun, Reply, ResultItem, View } from "./model";

export interface GalleryView extends View {
  results: HTMLElement;
  history: HTMLElement;
}

interface Shown {
  id: string;
  thumb: Uint8Array;
  title: string;
  detail: string;
  format?: string | undefined;
  width?: number | undefined;
  height?: number | undefined;
}

type Pending = { kind: "view"; id: string } | { kind: "download"; id: string; format?: string | undefined };

const EXT: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "image/gif": "gif",
  "image/svg+xml": "svg",
};

function describe(r: ResultItem): string {
  const dims = r.width && r.height ? `${r.width}×${r.height}` : r.size ?? "";
  return [dims, r.model, r.quality, r.format, r.cost_text].filter(Boolean).join(" · ");
}

export function createGallery(ctx: Ctx): GalleryView {
  const pending = new Map<string, Pending>();

  // ---------------------------------------------------------------------------------- lightbox
  const lbTitleId = uid("lightbox");
  const lbImg = h("img", { class: "iw-lightbox-img", attrs: { alt: "" } });
  const lbStatus = h("p", { class: "iw-lightbox-status", attrs: { "aria-live": "polite" } });
  const lbTitle = h("p", { class: "iw-lightbox-title", attrs: { id: lbTitleId } });
  const lbDetail = h("p", { class: "iw-lightbox-detail" });
  const lbClose = button("Close", { class: "iw-lightbox-close", attrs: { "data-action": "close", "aria-label": "Close enlarged image" } });
  const lbEdit = button("Edit this", { attrs: { "data-action": "edit" } });
  const lbRef = button("Use as reference", { attrs: { "data-action": "reference" } });
  const lbDownload = button("Download", { attrs: { "data-action": "download" } });
  const panel = h("div", { class: "iw-lightbox-panel" }, [
    h("div", { class: "iw-lightbox-figure" }, [lbImg]),
    h("div", { class: "iw-lightbox-side" }, [
      lbTitle,
      lbDetail,
      lbStatus,
      h("div", { class: "iw-lightbox-actions" }, [lbEdit, lbRef, lbDownload, lbClose]),
    ]),
  ]);
  const lightbox = h(
    "div",
    { class: "iw-lightbox", attrs: { role: "dialog", "aria-modal": "true", "aria-labelledby": lbTitleId, tabindex: -1 } },
    [panel],
  );
  lightbox.hidden = true;
  // While open, the lightbox lives in a portal on <body>: notebook cells may use CSS containment,
  // which would trap a position:fixed overlay inside the cell. The portal carries the root class so
  // the styles and colour variables still apply.
  const portal = h("div", { class: "image-widget iw-portal", attrs: { "data-lm-suppress-shortcuts": "true" } }, [lightbox]);
  let current: Shown | null = null;
  let currentRequest: string | null = null;
  let lbUrl: string | null = null;
  let opener: HTMLElement | null = null;

  const setLbImage = (url: string | null): void => {
    const old = lbUrl;
    lbUrl = url;
    if (url) lbImg.src = url;
    else lbImg.removeAttribute("src");
    ctx.revoke(old);
  };

  const open = (item: Shown, from: HTMLElement | null): void => {
    current = item;
    opener = from;
    lbTitle.textContent = item.title || "Image";
    lbDetail.textContent = item.detail;
    lbImg.alt = item.title || "enlarged image";
    // Reserve the full image's box (when its size is known) so the panel does not jump when the
    // full-resolution bytes replace the thumbnail.
    if (item.width && item.height) {
      lbImg.style.width = `${item.width}px`;
      lbImg.style.aspectRatio = `${item.width} / ${item.height}`;
    } else {
      lbImg.style.removeProperty("width");
      lbImg.style.removeProperty("aspect-ratio");
    }
    setLbImage(item.thumb.byteLength ? ctx.url(item.thumb) : null);
    lightbox.dataset.full = "0";
    lightbox.dataset.id = item.id;
    lbStatus.textContent = "Loading the full image…";
    lightbox.hidden = false;
    if (!portal.isConnected) document.body.append(portal);
    currentRequest = randomId("view");
    pending.set(currentRequest, { kind: "view", id: item.id });
    ctx.send({ type: "fetch_image", id: item.id, request_id: currentRequest });
    lbClose.focus();
  };

  const close = (): void => {
    if (lightbox.hidden) return;
    lightbox.hidden = true;
    portal.remove();
    if (currentRequest) pending.delete(currentRequest);
    currentRequest = null;
    current = null;
    setLbImage(null);
    delete lightbox.dataset.id;
    const back = opener;
    opener = null;
    if (back && back.isConnected) back.focus();
  };

  ctx.listen(lbClose, "click", close);
  ctx.listen<MouseEvent>(lightbox, "click", (e) => {
    if (e.target === lightbox) close();
  });
  ctx.listen<KeyboardEvent>(lightbox, "keydown", (e) => {
    if (e.key === "Escape" && !lightbox.hidden) {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  });
  // Keep Tab inside the dialog while it is open.
  ctx.listen<KeyboardEvent>(lightbox, "keydown", (e) => {
    if (e.key !== "Tab") return;
    const items = Array.from(lightbox.querySelectorAll<HTMLButtonElement>("button:not([disabled])"));
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
  });
  ctx.listen(lbEdit, "click", () => {
    if (!current) return;
    ctx.send({ type: "use_as_input", id: current.id, role: "edit" });
    close();
  });
  ctx.listen(lbRef, "click", () => {
    if (current) ctx.send({ type: "use_as_input", id: current.id, role: "reference" });
  });
  ctx.listen(lbDownload, "click", () => {
    if (current) download(current.id, current.format);
  });

  // ---------------------------------------------------------------------------------- actions
  const download = (id: string, format?: string): void => {
    const requestId = randomId("download");
    pending.set(requestId, { kind: "download", id, format });
    ctx.send({ type: "fetch_image", id, request_id: requestId });
    ctx.notice("Preparing the download…");
  };

  const copyCode = (code: string, card: HTMLElement): void => {
    const fallback = (): void => {
      let box = card.querySelector<HTMLTextAreaElement>("textarea.iw-code");
      if (!box) {
        box = h("textarea", {
          class: "iw-code",
          attrs: { readonly: true, rows: 4, "aria-label": "Python code for this image", spellcheck: "false" },
        });
        card.append(box);
      }
      box.value = code;
      box.hidden = false;
      box.focus();
      box.select();
      let copied = false;
      try {
        copied = document.execCommand("copy");
      } catch {
        copied = false;
      }
      ctx.notice(copied ? "Code copied" : "Code selected: press Ctrl+C to copy");
    };
    const clip = navigator.clipboard as Clipboard | undefined;
    if (clip && typeof clip.writeText === "function") {
      clip.writeText(code).then(
        () => ctx.notice("Code copied"),
        () => fallback(),
      );
    } else fallback();
  };

  // ---------------------------------------------------------------------------------- results
  const resultsList = h("ol", { class: "iw-results-list", attrs: { "aria-label": "Results" } });
  const resultsHeadId = uid("results");
  const resultsCount = h("span", { class: "iw-hint" });
  const results = h("section", { class: "iw-results", attrs: { "aria-labelledby": resultsHeadId } }, [
    h("div", { class: "iw-section-head" }, [h("h3", { text: "Results", attrs: { id: resultsHeadId } }), resultsCount]),
    resultsList,
  ]);
  let resultUrls: string[] = [];

  const renderResults = (): void => {
    const items = ctx.list("results");
    const old = resultUrls;
    resultUrls = [];
    resultsList.replaceChildren(
      ...items.map((r, index) => {
        const thumb = toBytes(r.thumb);
        const img = h("img", { attrs: { alt: r.prompt ? `Result ${index + 1}: ${r.prompt}` : `Result ${index + 1}`, draggable: "false" } });
        if (thumb.byteLength) {
          const url = ctx.url(thumb);
          resultUrls.push(url);
          img.src = url;
        }
        const enlarge = h("button", {
          class: "iw-result-thumb",
          attrs: { type: "button", "data-action": "enlarge", "aria-label": `Enlarge result ${index + 1} of ${items.length}` },
        }, [img]);
        const actions = h("div", { class: "iw-result-actions" }, [
          button("Edit this", { attrs: { "data-action": "edit", title: "Make this the image to edit (mode → edit)" } }),
          button("Use as reference", { attrs: { "data-action": "reference", title: "Add this to the input images" } }),
          button("Download", { attrs: { "data-action": "download", title: "Download the full-resolution image" } }),
          button("Copy code", { attrs: { "data-action": "copy-code", title: "Copy the Python call that reproduces this image" } }),
        ]);
        const copy = actions.querySelector<HTMLButtonElement>('[data-action="copy-code"]');
        if (copy && !r.code) {
          copy.disabled = true;
          copy.title = "No code for this result";
        }
        return h("li", { class: "iw-result", attrs: { "data-result-id": r.id, "data-index": index } }, [
          enlarge,
          h("p", { class: "iw-result-meta", text: describe(r) }),
          actions,
        ]);
      }),
    );
    for (const url of old) ctx.revoke(url);
    results.hidden = items.length === 0;
    resultsCount.textContent = items.length ? `${items.length} image${items.length === 1 ? "" : "s"}` : "";
    ctx.root.dataset.results = String(items.length);
  };

  ctx.listen<MouseEvent>(resultsList, "click", (e) => {
    const btn = (e.target as Element | null)?.closest<HTMLButtonElement>("button[data-action]");
    const li = btn?.closest<HTMLElement>("[data-result-id]");
    if (!btn || !li || btn.disabled) return;
    const r = ctx.list("results")[Number(li.dataset.index)];
    if (!r || r.id !== li.dataset.resultId) return;
    switch (btn.dataset.action) {
      case "enlarge":
        open(
          {
            id: r.id,
            thumb: toBytes(r.thumb),
            title: r.prompt ?? "",
            detail: describe(r),
            format: r.format,
            width: r.width,
            height: r.height,
          },
          btn,
        );
        break;
      case "edit":
        ctx.send({ type: "use_as_input", id: r.id, role: "edit" });
        break;
      case "reference":
        ctx.send({ type: "use_as_input", id: r.id, role: "reference" });
        break;
      case "download":
        download(r.id, r.format);
        break;
      case "copy-code":
        copyCode(r.code ?? "", li);
        break;
      default:
        break;
    }
  });

  // ---------------------------------------------------------------------------------- history
  const historyHeadId = uid("history");
  const runsList = h("ol", { class: "iw-history-runs", attrs: { "aria-label": "Earlier runs" } });
  const runThumbs = h("ol", { class: "iw-history-thumbs", attrs: { "aria-label": "Images of the selected run" } });
  const history = h("section", { class: "iw-history", attrs: { "aria-labelledby": historyHeadId } }, [
    h("div", { class: "iw-section-head" }, [h("h3", { text: "History", attrs: { id: historyHeadId } })]),
    runsList,
    runThumbs,
  ]);
  let selectedRun: string | null = null;
  let historyUrls: string[] = [];

  const runLabel = (run: HistoryRun): string => {
    const when = run.created ? new Date(run.created) : null;
    const time = when && !Number.isNaN(when.getTime())
      ? when.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })
      : "";
    const n = run.items?.length ?? 0;
    return [`${n} image${n === 1 ? "" : "s"}`, run.model, time].filter(Boolean).join(" · ");
  };

  const renderHistory = (): void => {
    const runs = ctx.list("history");
    if (selectedRun && !runs.some((r) => r.run_id === selectedRun)) selectedRun = null;
    const old = historyUrls;
    historyUrls = [];
    runsList.replaceChildren(
      ...runs.map((run) => {
        const selected = run.run_id === selectedRun;
        return h("li", {}, [
          h("button", {
            class: "iw-history-run",
            attrs: {
              type: "button",
              "data-run-id": run.run_id,
              "aria-expanded": String(selected),
              "aria-controls": runThumbs.id || null,
              title: run.prompt ?? "",
            },
          }, [
            h("span", { class: "iw-history-prompt", text: run.prompt || "(no prompt)" }),
            h("span", { class: "iw-history-meta", text: runLabel(run) }),
          ]),
        ]);
      }),
    );
    const run = runs.find((r) => r.run_id === selectedRun);
    runThumbs.replaceChildren(
      ...(run?.items ?? []).map((item, index) => {
        const bytes = toBytes(item.thumb);
        const img = h("img", { attrs: { alt: `${run?.prompt ?? "image"} (${index + 1})`, draggable: "false" } });
        if (bytes.byteLength) {
          const url = ctx.url(bytes);
          historyUrls.push(url);
          img.src = url;
        }
        return h("li", {}, [
          h("button", {
            class: "iw-history-thumb",
            attrs: { type: "button", "data-item-id": item.id, "aria-label": `Enlarge image ${index + 1} of this run` },
          }, [img]),
        ]);
      }),
    );
    for (const url of old) ctx.revoke(url);
    runThumbs.hidden = !run;
    history.hidden = runs.length === 0;
  };
  runThumbs.id = uid("history-thumbs");

  ctx.listen<MouseEvent>(history, "click", (e) => {
    const target = e.target as Element | null;
    const runBtn = target?.closest<HTMLButtonElement>("button[data-run-id]");
    if (runBtn) {
      const id = runBtn.dataset.runId ?? null;
      selectedRun = selectedRun === id ? null : id;
      renderHistory();
      runsList.querySelector<HTMLButtonElement>(`button[data-run-id="${CSS.escape(id ?? "")}"]`)?.focus();
      return;
    }
    const thumbBtn = target?.closest<HTMLButtonElement>("button[data-item-id]");
    if (thumbBtn) {
      const run = ctx.list("history").find((r) => r.run_id === selectedRun);
      const item = run?.items.find((i) => i.id === thumbBtn.dataset.itemId);
      if (run && item) {
        open({ id: item.id, thumb: toBytes(item.thumb), title: run.prompt ?? "", detail: runLabel(run) }, thumbBtn);
      }
    }
  });

  // ---------------------------------------------------------------------------------- replies
  ctx.onMessage((msg: Reply, buffers: DataView[]) => {
    if (!msg || msg.type !== "image") return;
    const req = pending.get(msg.request_id);
    if (!req) return;
    pending.delete(msg.request_id);
    const bytes = toBytes(buffers?.[0]);
    if (!bytes.byteLength) {
      const why = msg.error ? `The full image is not available: ${msg.error}` : "The full image is not available.";
      if (req.kind === "view" && msg.request_id === currentRequest) lbStatus.textContent = why;
      if (req.kind === "download") ctx.notice(why, "warning");
      return;
    }
    // Trust the reply's mime only when it names an image type; otherwise look at the bytes.
    const mime = msg.mime && msg.mime.startsWith("image/") ? msg.mime : sniffMime(bytes);
    if (req.kind === "view") {
      if (msg.request_id !== currentRequest) return;
      setLbImage(ctx.url(bytes, mime));
      lightbox.dataset.full = "1";
      lbStatus.textContent = "";
      return;
    }
    const url = ctx.url(bytes, mime);
    const ext = EXT[mime] ?? req.format ?? "png";
    const a = h("a", { attrs: { href: url, download: `${req.id}.${ext}` } });
    a.hidden = true;
    ctx.root.append(a);
    a.click();
    a.remove();
    // Give the browser time to start the download before the URL goes.
    ctx.timeout(() => ctx.revoke(url), 10_000);
  });

  ctx.onChange(["results"], renderResults);
  ctx.onChange(["history"], renderHistory);
  renderResults();
  renderHistory();

  return {
    results,
    history,
    dispose: () => {
      pending.clear();
      portal.remove();
    },
  };
}
