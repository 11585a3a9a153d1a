// Entry point: builds the root `div.image-widget`, hands one Ctx to each view and returns a cleanup
// that undoes everything (DOM listeners, model handlers, timers, object URLs). See docs/PROTOCOL.md.

import type { RenderProps } from "@anywidget/types";
import "./widget.css";
import { createCompare } from "./compare";
import { createControls } from "./controls";
import { h } from "./dom";
import { createGallery } from "./gallery";
import { createInputs } from "./inputs";
import { createMask } from "./mask";
import { Ctx, type View, type WidgetModel } from "./model";
import { createStatus } from "./status";

function render({ model, el, signal }: RenderProps<WidgetModel>): () => void {
  // data-lm-suppress-shortcuts: while focus is inside the widget, JupyterLab/Notebook command-mode
  // keys (B inserts a cell, D D deletes one…) must not fire from our buttons and mask canvas.
  const root = h("div", { class: "image-widget", attrs: { "data-lm-suppress-shortcuts": "true" } });
  const ctx = new Ctx(model, root);
  root.dataset.state = ctx.status().state;
  root.dataset.results = "0";
  root.dataset.preview = "0";

  const views: View[] = [];
  const status = createStatus(ctx);
  views.push(status);
  const controls = createControls(ctx);
  views.push(controls);
  const inputs = createInputs(ctx);
  views.push(inputs);
  const mask = createMask(ctx);
  views.push(mask);
  const gallery = createGallery(ctx);
  views.push(gallery);
  const compare = createCompare(ctx, [gallery.results, gallery.history]);
  views.push(compare);

  controls.actions.append(status.state);
  root.append(
    status.header,
    controls.compose,
    inputs.section,
    mask.section,
    controls.actions,
    status.banner,
    status.preview,
    gallery.results,
    gallery.history,
    compare.panel,
    status.notices,
    h("div", { class: "iw-drop-hint", text: "Drop images to add them", attrs: { "aria-hidden": "true" } }),
  );
  el.append(root);
  root.dataset.ready = "1";

  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    signal?.removeEventListener("abort", cleanup);
    for (const view of views) view.dispose?.();
    ctx.dispose();
    root.remove();
  };
  // Hosts that pass an AbortSignal (anywidget ≥ 0.10) may end the view that way instead.
  signal?.addEventListener("abort", cleanup, { once: true });
  return cleanup;
}

export default { render };
