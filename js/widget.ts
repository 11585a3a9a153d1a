// Entry point: builds the root `div.image-widget`, hands one Ctx to each view (views/, mask/) and
// returns a cleanup that undoes everything: each view's own cleanup, then the Ctx's (DOM listeners,
// model handlers, timers, object URLs, open requests). See docs/PROTOCOL.md.

import type { RenderProps } from "@anywidget/types";
import "./widget.css";
import "./layout.css";
import { Ctx, type View } from "./ctx";
import { h } from "./dom";
import { HistoryList } from "./history-list";
import { keepFormKeys } from "./keys";
import { columns } from "./layout";
import { renderMask } from "./mask/view";
import type { WidgetModel } from "./protocol";
import { renderActions } from "./views/actions";
import { renderBanner } from "./views/banner";
import { renderBatches } from "./views/batches";
import { renderCompare } from "./views/compare";
import { renderCompose } from "./views/compose";
import { renderExpand } from "./views/expand";
import { renderHeader } from "./views/header";
import { renderHistory } from "./views/history";
import { renderInputs } from "./views/inputs";
import { renderKernel } from "./views/kernel";
import { renderKernelWatch } from "./views/kernel-watch";
import { Lightbox } from "./views/lightbox";
import { renderLive } from "./views/live";
import { renderNotices } from "./views/notices";
import { renderPreview } from "./views/preview";
import { renderRefine } from "./views/refine";
import { renderResults } from "./views/results";
import { hideSavedView } from "./views/saved-view";
import { renderRunState } from "./views/run-state";
import { renderSpend } from "./views/spend";

function render({ model, el, signal }: RenderProps<WidgetModel>): () => void {
  // data-lm-suppress-shortcuts: while focus is inside the widget, JupyterLab/Notebook command-mode
  // keys (B inserts a cell, D D deletes one…) must not fire from our buttons and mask canvas. Keys in
  // form controls are kept from the notebook's own key handling too (keys.ts).
  const root = h("div", { class: "image-widget", attrs: { "data-lm-suppress-shortcuts": "true" } });
  const ctx = new Ctx(model, root);
  keepFormKeys(ctx);
  root.dataset.state = ctx.status().state;
  root.dataset.results = "0";
  root.dataset.preview = "0";

  const notices = renderNotices(ctx);
  const header = renderHeader(ctx);
  const spend = renderSpend(ctx);
  header.el.append(spend.el); // in the header row: no line of its own
  const runState = renderRunState(ctx);
  const banner = renderBanner(ctx);
  const preview = renderPreview(ctx);
  const compose = renderCompose(ctx);
  const actions = renderActions(ctx, compose.flushPrompt);
  const inputs = renderInputs(ctx, compose.flushPrompt);
  const mask = renderMask(ctx);
  const expand = renderExpand(ctx);
  const lightbox = new Lightbox(ctx);
  const results = renderResults(ctx, lightbox);
  const refine = renderRefine(ctx); // under the current result: a conversation that refines it
  const batches = renderBatches(ctx); // pending batch sweeps, drawn just above the history
  const historyList = new HistoryList(ctx); // before the views: a whole send resets what diffs built
  const history = renderHistory(ctx, lightbox, historyList);
  const compare = renderCompare(ctx, [results.el, history.el], historyList);
  const kernel = renderKernel(ctx, () => inputs.uploads.abandon()); // last: it disables what the others drew
  const watch = renderKernelWatch(ctx); // a kernel that stopped answering (restarted from elsewhere)
  const live = renderLive(ctx); // no element: it tells the kernel this view is on screen
  const saved = hideSavedView(ctx); // no element shown: it hides this cell's saved picture while live
  const views: View[] = [
    notices, header, spend, runState, banner, preview, compose, actions, inputs, mask, expand, lightbox, results, refine,
    batches, history, compare, kernel, watch, live, saved,
  ];

  actions.el.append(runState.el);
  root.append(
    header.el,
    kernel.el,
    watch.el,
    columns(
      ctx,
      [compose.el, mask.el, expand.el, actions.el],
      [notices.el, banner.el, preview.el, results.el, refine.el, batches.el, history.el, compare.el],
      inputs.el,
    ),
    h("div", { class: "iw-drop-hint", text: "Drop images to add them", attrs: { "aria-hidden": "true" } }),
  );
  el.append(root);
  root.dataset.ready = "1";

  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    signal?.removeEventListener("abort", cleanup);
    for (const view of views) view.cleanup();
    ctx.dispose();
    root.remove();
  };
  // Hosts that pass an AbortSignal (anywidget ≥ 0.10) may end the view that way instead.
  signal?.addEventListener("abort", cleanup, { once: true });
  return cleanup;
}

export default { render };
