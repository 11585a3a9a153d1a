// Compare two results: every result card and every history thumbnail gets a "Compare" toggle; when two
// are picked a panel opens inside the widget with both full images (the `compare` command's reply
// brings the records, the differing parameters and two buffers), side by side or stacked under an A/B
// slider, and a table of what differs. Text from records only ever goes in with textContent.

import { button, h, randomId, sniffMime, toBytes, uid } from "./dom";
import type { CompareDifference, CompareItem, Ctx, Reply, View } from "./model";

export interface CompareView extends View {
  panel: HTMLElement;
}

type Mode = "side" | "slider";

interface Known {
  thumb: Uint8Array;
  prompt: string;
  detail: string;
  width?: number | undefined;
  height?: number | undefined;
}

const TOGGLE = "iw-compare-toggle";

/** A parameter value for the table: strings as they are, everything else as JSON, unset as a dash. */
function show(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value === "" ? "(empty)" : value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function when(created: string | undefined): string {
  if (!created) return "";
  const d = new Date(created);
  if (Number.isNaN(d.getTime())) return created;
  return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/**
 * @param sources the gallery's results and history sections: their thumbnails get the toggles (they
 *   are re-rendered on every trait change or run selection, so a MutationObserver re-decorates them).
 */
export function createCompare(ctx: Ctx, sources: HTMLElement[]): CompareView {
  let picked: string[] = [];
  let mode: Mode = "side";
  let request: string | null = null;
  let opener: HTMLElement | null = null;
  let urls: [string | null, string | null] = [null, null];

  // -------------------------------------------------------------------------------------- panel
  const headId = uid("compare");
  const sideBtn = button("Side by side", { attrs: { "data-mode": "side", "aria-pressed": "true" } });
  const sliderBtn = button("A/B slider", { attrs: { "data-mode": "slider", "aria-pressed": "false" } });
  const closeBtn = button("Close", { class: "iw-compare-close", attrs: { "data-action": "close-compare", "aria-label": "Close compare" } });
  const status = h("p", { class: "iw-compare-status", attrs: { "aria-live": "polite" } });

  const figure = (side: "a" | "b"): { fig: HTMLElement; img: HTMLImageElement; prompt: HTMLElement; detail: HTMLElement } => {
    const img = h("img", { attrs: { alt: "", "data-side": side, draggable: "false" } });
    const prompt = h("span", { class: "iw-compare-prompt" });
    const detail = h("span", { class: "iw-compare-detail" });
    const fig = h("figure", { class: "iw-compare-fig", attrs: { "data-side": side } }, [
      h("div", { class: "iw-compare-frame" }, [img]),
      h("figcaption", {}, [h("span", { class: "iw-compare-tag", text: side.toUpperCase() }), prompt, detail]),
    ]);
    return { fig, img, prompt, detail };
  };
  const figA = figure("a");
  const figB = figure("b");
  const sideView = h("div", { class: "iw-compare-side" }, [figA.fig, figB.fig]);

  // Slider: B underneath, A on top clipped from the right, so the handle shows A left of it, B right.
  const underImg = h("img", { class: "iw-compare-under", attrs: { alt: "", "data-side": "b", draggable: "false" } });
  const overImg = h("img", { class: "iw-compare-over", attrs: { alt: "", "data-side": "a", draggable: "false" } });
  const divider = h("div", { class: "iw-compare-divider", attrs: { "aria-hidden": "true" } });
  const stage = h("div", { class: "iw-compare-stage" }, [
    underImg,
    overImg,
    divider,
    h("span", { class: "iw-compare-tag iw-compare-tag-a", text: "A", attrs: { "aria-hidden": "true" } }),
    h("span", { class: "iw-compare-tag iw-compare-tag-b", text: "B", attrs: { "aria-hidden": "true" } }),
  ]);
  const rangeId = uid("compare-range");
  const range = h("input", {
    class: "iw-compare-range",
    attrs: { id: rangeId, type: "range", min: 0, max: 100, step: 1, value: 50, "aria-valuetext": "50% A" },
  });
  const sliderView = h("div", { class: "iw-compare-slider" }, [
    stage,
    h("div", { class: "iw-compare-range-row" }, [
      h("label", { text: "A/B position", attrs: { for: rangeId } }),
      range,
    ]),
  ]);

  const diffBody = h("tbody", {});
  const diffTable = h("table", { class: "iw-compare-diff" }, [
    h("caption", { text: "Differing parameters" }),
    h("thead", {}, [
      h("tr", {}, [
        h("th", { text: "Parameter", attrs: { scope: "col" } }),
        h("th", { text: "A", attrs: { scope: "col" } }),
        h("th", { text: "B", attrs: { scope: "col" } }),
      ]),
    ]),
    diffBody,
  ]);
  const same = h("p", { class: "iw-compare-same", text: "No differing parameters." });

  const panel = h(
    "section",
    { class: "iw-compare", attrs: { "aria-labelledby": headId, tabindex: -1, "data-role": "compare", "data-mode": mode } },
    [
      h("div", { class: "iw-section-head iw-compare-head" }, [
        h("h3", { text: "Compare", attrs: { id: headId } }),
        h("div", { class: "iw-seg", attrs: { role: "group", "aria-label": "Compare view" } }, [sideBtn, sliderBtn]),
        h("span", { class: "iw-toolbar-gap" }),
        closeBtn,
      ]),
      status,
      sideView,
      sliderView,
      diffTable,
      same,
    ],
  );
  panel.hidden = true;
  diffTable.hidden = true;
  same.hidden = true;

  const setMode = (next: Mode): void => {
    mode = next;
    panel.dataset.mode = next;
    sideBtn.setAttribute("aria-pressed", String(next === "side"));
    sliderBtn.setAttribute("aria-pressed", String(next === "slider"));
    sideView.hidden = next !== "side";
    sliderView.hidden = next !== "slider";
  };
  setMode("side");

  const setPosition = (): void => {
    const v = Math.min(100, Math.max(0, Number(range.value) || 0));
    overImg.style.clipPath = `inset(0 ${100 - v}% 0 0)`;
    divider.style.left = `${v}%`;
    range.setAttribute("aria-valuetext", `${v}% A`);
  };
  setPosition();

  const setImages = (a: string | null, b: string | null): void => {
    const old = urls;
    urls = [a, b];
    for (const [img, url] of [[figA.img, a], [overImg, a], [figB.img, b], [underImg, b]] as const) {
      if (url) img.src = url;
      else img.removeAttribute("src");
    }
    for (const url of old) if (url && url !== a && url !== b) ctx.revoke(url);
  };

  const setRatio = (width: number | null | undefined, height: number | null | undefined): void => {
    if (width && height) stage.style.aspectRatio = `${width} / ${height}`;
    else stage.style.removeProperty("aspect-ratio");
  };

  // ------------------------------------------------------------------------- what we already know
  /** Thumbnail and caption of an id from the results or history traits (placeholders until the reply). */
  const known = (id: string): Known | null => {
    const r = ctx.list("results").find((x) => x.id === id);
    if (r) {
      return {
        thumb: toBytes(r.thumb),
        prompt: r.prompt ?? "",
        detail: [r.model, r.quality, r.size, r.cost_text].filter(Boolean).join(" · "),
        width: r.width,
        height: r.height,
      };
    }
    for (const run of ctx.list("history")) {
      const item = run.items?.find((x) => x.id === id);
      if (item) return { thumb: toBytes(item.thumb), prompt: run.prompt ?? "", detail: [run.model, when(run.created)].filter(Boolean).join(" · ") };
    }
    return null;
  };

  const caption = (fig: typeof figA, prompt: string, detail: string): void => {
    fig.prompt.textContent = prompt || "(no prompt)";
    fig.detail.textContent = detail;
    fig.img.alt = `${fig.fig.dataset.side?.toUpperCase()}: ${prompt || "image"}`;
  };

  // ------------------------------------------------------------------------------ open / close
  const load = (): void => {
    const [a, b] = picked;
    if (!a || !b) return;
    const ka = known(a);
    const kb = known(b);
    caption(figA, ka?.prompt ?? "", ka?.detail ?? "");
    caption(figB, kb?.prompt ?? "", kb?.detail ?? "");
    overImg.alt = figA.img.alt;
    underImg.alt = figB.img.alt;
    setRatio(ka?.width, ka?.height);
    setImages(
      ka && ka.thumb.byteLength ? ctx.url(ka.thumb) : null,
      kb && kb.thumb.byteLength ? ctx.url(kb.thumb) : null,
    );
    diffBody.replaceChildren();
    diffTable.hidden = true;
    same.hidden = true;
    panel.dataset.full = "0";
    panel.dataset.a = a;
    panel.dataset.b = b;
    status.textContent = "Loading both images…";
    request = randomId("compare");
    ctx.send({ type: "compare", ids: [a, b], request_id: request });
  };

  const open = (from: HTMLElement | null): void => {
    const wasOpen = !panel.hidden;
    panel.hidden = false;
    ctx.root.dataset.compare = "open";
    load();
    if (!wasOpen) {
      opener = from;
      panel.focus({ preventScroll: true });
      panel.scrollIntoView?.({ block: "nearest" });
    }
  };

  const close = (restoreFocus = true): void => {
    if (panel.hidden) return;
    panel.hidden = true;
    delete ctx.root.dataset.compare;
    request = null;
    picked = [];
    syncToggles();
    setImages(null, null);
    diffBody.replaceChildren();
    const back = opener;
    opener = null;
    if (restoreFocus && back && back.isConnected) back.focus();
  };

  // ---------------------------------------------------------------------------------- toggles
  const syncToggles = (): void => {
    for (const source of sources) {
      for (const t of source.querySelectorAll<HTMLButtonElement>(`button.${TOGGLE}`)) {
        const id = t.dataset.compareId ?? "";
        const at = picked.indexOf(id);
        t.setAttribute("aria-pressed", String(at >= 0));
        if (at >= 0) t.dataset.slot = at === 0 ? "A" : "B";
        else delete t.dataset.slot;
      }
    }
  };

  const makeToggle = (id: string, label: string): HTMLButtonElement =>
    button("Compare", {
      class: TOGGLE,
      attrs: {
        "data-action": "compare",
        "data-compare-id": id,
        "aria-pressed": "false",
        "aria-label": label,
        title: "Pick two images to compare them",
      },
    });

  /** Give every result card and history thumbnail that lacks one its toggle. */
  const decorate = (): void => {
    for (const source of sources) {
      for (const li of source.querySelectorAll<HTMLElement>("li[data-result-id]")) {
        if (li.querySelector(`.${TOGGLE}`)) continue;
        const id = li.dataset.resultId ?? "";
        const n = Number(li.dataset.index ?? 0) + 1;
        const toggle = makeToggle(id, `Compare result ${n}`);
        (li.querySelector(".iw-result-actions") ?? li).append(toggle);
      }
      for (const thumb of source.querySelectorAll<HTMLElement>("button.iw-history-thumb[data-item-id]")) {
        const li = thumb.parentElement;
        if (!li || li.querySelector(`.${TOGGLE}`)) continue;
        const n = Array.prototype.indexOf.call(li.parentElement?.children ?? [], li) + 1;
        li.classList.add("iw-history-item");
        li.append(makeToggle(thumb.dataset.itemId ?? "", `Compare image ${n} of this run`));
      }
    }
    syncToggles();
  };

  const observer = new MutationObserver(() => decorate());
  for (const source of sources) observer.observe(source, { childList: true, subtree: true });
  decorate();

  const onToggle = (e: MouseEvent): void => {
    const t = (e.target as Element | null)?.closest<HTMLButtonElement>(`button.${TOGGLE}`);
    if (!t) return;
    const id = t.dataset.compareId ?? "";
    if (!id) return;
    if (picked.includes(id)) {
      picked = picked.filter((x) => x !== id);
      if (!panel.hidden) {
        // Un-picking one of the pair ends the comparison; the other stays picked.
        const keep = picked;
        close(false);
        picked = keep;
      }
      syncToggles();
      return;
    }
    picked = [...picked, id].slice(-2);
    syncToggles();
    if (picked.length === 2) open(t);
  };
  for (const source of sources) ctx.listen<MouseEvent>(source, "click", onToggle);

  // ---------------------------------------------------------------------------------- controls
  ctx.listen(sideBtn, "click", () => setMode("side"));
  ctx.listen(sliderBtn, "click", () => setMode("slider"));
  ctx.listen(closeBtn, "click", () => close());
  ctx.listen(range, "input", setPosition);
  ctx.listen(range, "change", setPosition);
  ctx.listen<KeyboardEvent>(ctx.root, "keydown", (e) => {
    if (e.key !== "Escape" || panel.hidden) return;
    const target = e.target as Element | null;
    if (!target || !(panel.contains(target) || target.closest?.(`button.${TOGGLE}`))) return;
    e.preventDefault();
    e.stopPropagation();
    close();
  });

  // ---------------------------------------------------------------------------------- replies
  const renderDifferences = (diffs: CompareDifference[]): void => {
    diffBody.replaceChildren(
      ...diffs.map((d) =>
        h("tr", { attrs: { "data-param": String(d.param) } }, [
          h("th", { text: String(d.param), attrs: { scope: "row" } }),
          h("td", { text: show(d.a), attrs: { "data-side": "a" } }),
          h("td", { text: show(d.b), attrs: { "data-side": "b" } }),
        ]),
      ),
    );
    diffTable.hidden = diffs.length === 0;
    same.hidden = diffs.length !== 0;
  };

  const itemDetail = (item: CompareItem): string => {
    const p = item.params ?? {};
    const size = typeof p.size === "string" ? p.size : item.width && item.height ? `${item.width}×${item.height}` : "";
    const quality = typeof p.quality === "string" ? p.quality : "";
    return [item.model, quality, size, item.cost_text, when(item.created)].filter(Boolean).join(" · ");
  };

  ctx.onMessage((msg: Reply, buffers: DataView[]) => {
    if (!msg || msg.type !== "compare" || msg.request_id !== request || panel.hidden) return;
    request = null;
    const items = Array.isArray(msg.items) ? msg.items : [];
    const [a, b] = items;
    const bytesA = toBytes(buffers?.[0]);
    const bytesB = toBytes(buffers?.[1]);
    if (msg.error || !a || !b || !bytesA.byteLength || !bytesB.byteLength) {
      status.textContent = `Cannot compare: ${msg.error || "the images are not available"}`;
      panel.dataset.full = "0";
      return;
    }
    const mime = (item: CompareItem, bytes: Uint8Array): string =>
      item.mime && item.mime.startsWith("image/") ? item.mime : sniffMime(bytes);
    caption(figA, a.prompt ?? "", itemDetail(a));
    caption(figB, b.prompt ?? "", itemDetail(b));
    overImg.alt = figA.img.alt;
    underImg.alt = figB.img.alt;
    setRatio(a.width, a.height);
    setImages(ctx.url(bytesA, mime(a, bytesA)), ctx.url(bytesB, mime(b, bytesB)));
    renderDifferences(Array.isArray(msg.differences) ? msg.differences : []);
    status.textContent = "";
    panel.dataset.full = "1";
  });

  return {
    panel,
    dispose: () => {
      observer.disconnect();
      request = null;
      delete ctx.root.dataset.compare;
    },
  };
}
