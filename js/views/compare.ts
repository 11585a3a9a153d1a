// Compare two results: pick two with the toggles (compare/picker.ts) and a panel opens inside the
// widget with both full images and the parameters that differ (compare/panel.ts). The `compare`
// request's reply brings the two records, the differences and two buffers.

import { imageMime, toBytes } from "../bytes";
import { type Ctx, ignoreAbort, type View } from "../ctx";
import type { HistoryList } from "../history-list";
import { shortDate } from "../dom";
import type { CompareItem, CompareReply } from "../protocol";
import { type Caption, ComparePanel } from "./compare/panel";
import { ComparePicker, TOGGLE_SELECTOR } from "./compare/picker";

interface Known extends Caption {
  thumb: Uint8Array;
  width?: number | undefined;
  height?: number | undefined;
}

/** Thumbnail and caption of an id from the results or history traits (placeholders until the reply). */
function known(ctx: Ctx, id: string, history: HistoryList): Known | null {
  const r = ctx.list("results").find((x) => x.id === id);
  if (r) {
    const detail = [r.model, r.quality, r.size, r.cost_text].filter(Boolean).join(" · ");
    return { thumb: toBytes(r.thumb), prompt: r.prompt ?? "", detail, width: r.width, height: r.height };
  }
  for (const run of history.runs()) {
    const item = run.items?.find((x) => x.id === id);
    if (item) {
      const detail = [run.model, shortDate(run.created, run.created)].filter(Boolean).join(" · ");
      return { thumb: toBytes(item.thumb), prompt: run.prompt ?? "", detail };
    }
  }
  return null;
}

function itemCaption(item: CompareItem): Caption {
  const p = item.params ?? {};
  const size = typeof p.size === "string" ? p.size : item.width && item.height ? `${item.width}×${item.height}` : "";
  const quality = typeof p.quality === "string" ? p.quality : "";
  const detail = [item.model, quality, size, item.cost_text, shortDate(item.created, item.created)].filter(Boolean).join(" · ");
  return { prompt: item.prompt ?? "", detail };
}

/**
 * @param sources the results and history sections: their thumbnails get the toggles.
 */
export function renderCompare(ctx: Ctx, sources: HTMLElement[], history: HistoryList): View {
  const panel = new ComparePanel(ctx);
  let fetching: AbortController | null = null;
  let opener: HTMLElement | null = null;

  const show = (reply: CompareReply, buffers: Uint8Array[]): void => {
    const [a, b] = Array.isArray(reply.items) ? reply.items : [];
    const [bytesA, bytesB] = buffers;
    if (reply.error || !a || !b || !bytesA?.byteLength || !bytesB?.byteLength) {
      panel.failed(reply.error || "the images are not available");
      return;
    }
    panel.describe(itemCaption(a), itemCaption(b), a.width, a.height);
    panel.setImages(ctx.url(bytesA, imageMime(a.mime, bytesA)), ctx.url(bytesB, imageMime(b.mime, bytesB)));
    panel.loaded(Array.isArray(reply.differences) ? reply.differences : []);
  };

  const load = (ids: [string, string]): void => {
    const ka = known(ctx, ids[0], history);
    const kb = known(ctx, ids[1], history);
    const none = { prompt: "", detail: "" };
    panel.describe(ka ?? none, kb ?? none, ka?.width, ka?.height);
    panel.setImages(
      ka && ka.thumb.byteLength ? ctx.url(ka.thumb) : null,
      kb && kb.thumb.byteLength ? ctx.url(kb.thumb) : null,
    );
    panel.loading(ids);
    fetching?.abort();
    const current = new AbortController();
    fetching = current;
    ctx.request({ type: "compare", ids }, { signal: current.signal }).then(({ reply, buffers }) => {
      if (current.signal.aborted) return;
      fetching = null;
      show(reply, buffers);
    }, ignoreAbort);
  };

  const open = (ids: [string, string], from: HTMLElement): void => {
    const wasOpen = !panel.el.hidden;
    panel.el.hidden = false;
    ctx.root.dataset.compare = "open";
    load(ids);
    if (!wasOpen) {
      opener = from;
      panel.el.focus({ preventScroll: true });
      panel.el.scrollIntoView?.({ block: "nearest" });
    }
  };

  /** Close the panel; the picks are cleared unless `keepPicks` (one of a pair was un-picked). */
  const close = (restoreFocus: boolean, keepPicks = false): void => {
    if (panel.el.hidden) return;
    panel.el.hidden = true;
    delete ctx.root.dataset.compare;
    fetching?.abort();
    fetching = null;
    if (!keepPicks) picker.clear();
    panel.clear();
    const back = opener;
    opener = null;
    if (restoreFocus && back && back.isConnected) back.focus();
  };

  const picker = new ComparePicker(ctx, sources, {
    pair: open,
    // Un-picking one of the pair ends the comparison; the other stays picked.
    unpick: () => close(false, true),
  });

  ctx.listen(panel.closeBtn, "click", () => close(true));
  ctx.listen<KeyboardEvent>(ctx.root, "keydown", (e) => {
    if (e.key !== "Escape" || panel.el.hidden) return;
    const target = e.target as Element | null;
    if (!target || !(panel.el.contains(target) || target.closest?.(TOGGLE_SELECTOR))) return;
    e.preventDefault();
    e.stopPropagation();
    close(true);
  });

  return {
    el: panel.el,
    cleanup: () => {
      picker.cleanup();
      fetching?.abort();
      fetching = null;
      delete ctx.root.dataset.compare;
    },
  };
}
