// The widget's two columns: the work (prompt, options, inputs, mask / expand, actions) and what came
// of it (notices, banner, preview, results, history, compare). A narrow cell stacks them as one
// column (the wrappers are `display: contents`); a wide one (WIDE_PX or more, measured on the root
// with a ResizeObserver, so it follows the notebook cell, not the window) puts them side by side.

import type { Ctx } from "./ctx";
import { h } from "./dom";

export const WIDE_PX = 1100;

/**
 * `main` and `side` are the two columns' views in their narrow order; `roaming` sits after main[0]
 * when narrow and at the top of the side column when wide (the input images, next to the results
 * they come from, leaving the work column's height to the canvas).
 */
export function columns(ctx: Ctx, main: HTMLElement[], side: HTMLElement[], roaming: HTMLElement): HTMLElement {
  const work = h("div", { class: "iw-col iw-col-main" }, main);
  main[0]?.after(roaming);
  const out = h("div", { class: "iw-col iw-col-side" }, side);
  const wrap = h("div", { class: "iw-columns" }, [work, out]);
  const observer = new ResizeObserver((entries) => {
    const width = entries[entries.length - 1]?.contentRect.width ?? 0;
    const wide = width >= WIDE_PX;
    if ((ctx.root.dataset.wide === "1") === wide) return;
    ctx.root.dataset.wide = wide ? "1" : "0";
    if (wide) out.prepend(roaming);
    else main[0]?.after(roaming);
  });
  observer.observe(ctx.root);
  ctx.signal.addEventListener("abort", () => observer.disconnect());
  return wrap;
}
