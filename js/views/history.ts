// The history strip: one button per earlier run; choosing a run shows its thumbnails (scrolled into
// view), each opening the lightbox. When the runs do not fit, the strip says so: ‹ › buttons, a fade
// on the side with more, and a visible scrollbar (`data-more` = none / left / right / both).
// It holds the pages looked at, not the folder: scrolling near its end asks the kernel for the next
// page (`history_more`, while `history_state.more`), and the search box (history-search.ts) swaps the
// runs for those whose prompt matches. `data-loading` / `data-older` on the strip say what is going on.

import { toBytes } from "../bytes";
import type { Ctx, View } from "../ctx";
import { UrlBatch } from "../url-batch";
import { button, h, shortDate, thumbImg, uid } from "../dom";
import type { HistoryList } from "../history-list";
import type { HistoryRun } from "../protocol";
import { historyState, renderHistorySearch } from "./history-search";
import type { Lightbox } from "./lightbox";

/** Ask for the next page when the end of the strip is this close (px) to coming into view. */
const MORE_MARGIN_PX = 240;

function runLabel(run: HistoryRun): string {
  const n = run.items?.length ?? 0;
  return [`${n} image${n === 1 ? "" : "s"}`, run.model, shortDate(run.created)].filter(Boolean).join(" · ");
}

export function renderHistory(ctx: Ctx, lightbox: Lightbox, list: HistoryList): View {
  const headId = uid("history");
  const runsList = h("ol", { class: "iw-history-runs", attrs: { "aria-label": "Earlier runs" } });
  const thumbs = h("ol", { class: "iw-history-thumbs", attrs: { "aria-label": "Images of the selected run" } });
  thumbs.id = uid("history-thumbs");
  const prev = button("‹", {
    class: "iw-history-scroll",
    attrs: { "data-action": "history-prev", "aria-label": "Show newer runs" },
  });
  const next = button("›", {
    class: "iw-history-scroll",
    attrs: { "data-action": "history-next", "aria-label": "Show older runs" },
  });
  runsList.id = uid("history-runs");
  prev.setAttribute("aria-controls", runsList.id);
  next.setAttribute("aria-controls", runsList.id);
  const strip = h("div", { class: "iw-history-strip", attrs: { "data-more": "none" } }, [prev, runsList, next]);
  const search = renderHistorySearch(ctx);
  const status = h("p", { class: "iw-hint iw-history-status", attrs: { role: "status", "aria-live": "polite" } });
  const el = h("section", { class: "iw-history", attrs: { "aria-labelledby": headId } }, [
    h("div", { class: "iw-section-head" }, [h("h3", { text: "History", attrs: { id: headId } }), search.el]),
    strip,
    status,
    thumbs,
  ]);

  /** Which sides have runs out of view; the buttons show only when the runs do not all fit. */
  const showMore = (): void => {
    const { scrollLeft, scrollWidth, clientWidth } = runsList;
    const left = scrollLeft > 1;
    const right = scrollLeft + clientWidth < scrollWidth - 1;
    strip.dataset.more = left && right ? "both" : left ? "left" : right ? "right" : "none";
    prev.hidden = next.hidden = !left && !right;
    prev.disabled = !left;
    next.disabled = !right;
    askMore();
  };
  let asked = false; // a `history_more` is on its way: wait for the kernel's answer (history_state)
  /** The end of the strip is (nearly) in view and older runs match: ask for the next page. */
  const askMore = (): void => {
    const state = historyState(ctx);
    if (asked || !state.more || state.loading || !list.runs().length || runsList.clientWidth === 0) return;
    const { scrollLeft, scrollWidth, clientWidth } = runsList;
    if (scrollLeft + clientWidth < scrollWidth - MORE_MARGIN_PX) return;
    asked = true;
    ctx.send({ type: "history_more" });
  };
  const page = (direction: number): void => {
    runsList.scrollBy({ left: direction * Math.max(120, runsList.clientWidth * 0.8), behavior: "smooth" });
  };
  ctx.listen(prev, "click", () => page(-1));
  ctx.listen(next, "click", () => page(1));
  ctx.listen(runsList, "scroll", showMore, { passive: true });
  const resized = typeof ResizeObserver === "function" ? new ResizeObserver(showMore) : null;
  resized?.observe(runsList);
  const urls = new UrlBatch(ctx);
  let selected: string | null = null;

  // A card: the run's first image (small, loaded lazily), what made it, the prompt and the run's facts.
  const runButton = (run: HistoryRun, url: (b: Uint8Array) => string): HTMLElement => {
    const first = run.items?.[0];
    const cover = thumbImg(first ? toBytes(first.thumb) : new Uint8Array(), { alt: "", loading: "lazy" }, url);
    cover.classList.add("iw-history-cover");
    return h("li", {}, [
      h("button", {
        class: "iw-history-run",
        attrs: {
          type: "button",
          "data-run-id": run.run_id,
          "data-call": run.call ?? "",
          "aria-expanded": String(run.run_id === selected),
          "aria-controls": thumbs.id,
          title: run.prompt ?? "",
        },
      }, [
        cover,
        h("span", { class: "iw-history-text" }, [
          h("span", { class: "iw-history-prompt", text: run.prompt || "(no prompt)" }),
          h("span", { class: "iw-history-meta" }, [
            h("span", { class: "iw-history-call", text: run.call ?? "" }),
            run.call ? " · " : "",
            runLabel(run),
          ]),
        ]),
      ]),
    ]);
  };

  const thumbButton = (run: HistoryRun, item: HistoryRun["items"][number], index: number, url: (b: Uint8Array) => string): HTMLElement => {
    const img = thumbImg(toBytes(item.thumb), { alt: `${run.prompt ?? "image"} (${index + 1})`, draggable: "false" }, url);
    return h("li", {}, [
      h("button", {
        class: "iw-history-thumb",
        attrs: { type: "button", "data-item-id": item.id, "aria-label": `Enlarge image ${index + 1} of this run` },
      }, [img]),
    ]);
  };

  let shownQuery = historyState(ctx).query ?? "";
  const render = (): void => {
    const runs = list.runs();
    if (selected && !runs.some((r) => r.run_id === selected)) selected = null;
    const run = runs.find((r) => r.run_id === selected);
    const state = historyState(ctx);
    const query = state.query ?? "";
    // A page on its way shows at the end of the strip, where it will go (no line appears and goes below).
    const paging = state.loading && query === shownQuery && runs.length > 0;
    urls.render((url) => {
      const items = runs.map((r) => runButton(r, url));
      if (paging) items.push(h("li", { class: "iw-history-loading iw-hint", text: "Loading…" }));
      runsList.replaceChildren(...items);
      thumbs.replaceChildren(...(run ? (run.items ?? []).map((item, i) => thumbButton(run, item, i, url)) : []));
    });
    thumbs.hidden = !run;
    if (query !== shownQuery && !state.loading) {
      shownQuery = query;
      runsList.scrollLeft = 0; // another search's runs start at the start
    }
    strip.dataset.loading = state.loading ? "1" : "0";
    strip.dataset.older = state.more ? "1" : "0";
    status.textContent = state.loading && !paging
      ? query ? `Searching for “${query}”…` : "Loading runs…"
      : query && !runs.length && !state.loading ? `No run’s prompt contains “${query}”.` : "";
    status.hidden = !status.textContent;
    el.hidden = runs.length === 0 && !query && !state.loading;
    showMore();
  };
  ctx.onChange(["history_state"], () => {
    asked = false;
    render();
  });
  ctx.onChange(["history"], () => {
    asked = false;
  });

  ctx.listen<MouseEvent>(el, "click", (e) => {
    const target = e.target as Element | null;
    const runBtn = target?.closest<HTMLButtonElement>("button[data-run-id]");
    if (runBtn) {
      const id = runBtn.dataset.runId ?? null;
      selected = selected === id ? null : id;
      render();
      runsList.querySelector<HTMLButtonElement>(`button[data-run-id="${CSS.escape(id ?? "")}"]`)?.focus();
      // The images open below the strip: bring them into view once laid out (the compare toggles are
      // added to them right after this render).
      if (selected) ctx.timeout(() => thumbs.scrollIntoView?.({ block: "nearest", behavior: "smooth" }), 0);
      return;
    }
    const thumbBtn = target?.closest<HTMLButtonElement>("button[data-item-id]");
    if (!thumbBtn) return;
    const run = list.runs().find((r) => r.run_id === selected);
    const item = run?.items.find((i) => i.id === thumbBtn.dataset.itemId);
    if (run && item) {
      lightbox.open({ id: item.id, thumb: toBytes(item.thumb), title: run.prompt ?? "", detail: runLabel(run) }, thumbBtn);
    }
  });

  ctx.onChange(["history"], render);
  list.onDiff(render);
  render();
  return { el, cleanup: () => resized?.disconnect() };
}
