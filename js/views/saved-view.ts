// The saved view (widget/saved_view.py) is the static picture the kernel publishes beside the widget for a
// notebook reopened without its live state. While this widget is live, its own cell's saved view is hidden —
// only that one: a saved view in another notebook or cell, whose widget is gone, must stay visible. The
// kernel replaces it after every run (update_display), so new ones are hidden as they arrive.

import type { Ctx, View } from "../ctx";

/** How far up from the widget its output area can be (the saved view sits in the same cell's outputs). */
const MAX_LEVELS = 6;
/** The kernel publishes the saved view right after the widget; if it is not on the page yet when the widget
 * first looks, the next state the kernel sends (history, spend, status: there are always some) looks again. */
const LOOK_AGAIN_ON: ("history" | "history_state" | "spend" | "status" | "results" | "cost")[] = [
  "history", "history_state", "spend", "status", "results", "cost",
];

function ancestors(start: Element): Element[] {
  const found: Element[] = [];
  for (let node = start.parentElement; node && found.length < MAX_LEVELS; node = node.parentElement) found.push(node);
  return found;
}

export function hideSavedView(ctx: Ctx): View {
  let observer: MutationObserver | null = null;
  let area: Element | null = null;
  const hide = (): void => {
    for (const node of area?.querySelectorAll<HTMLElement>(".iw-saved-view") ?? []) node.style.display = "none";
  };
  /** The nearest ancestor holding a saved view is this cell's output area: hide there, and follow it. Until
   * one appears, watch the highest ancestor within reach for it (a few levels: this cell, not the notebook). */
  const find = (): void => {
    if (area || ctx.disposed) return;
    const around = ancestors(ctx.root);
    area = around.find((node) => node.querySelector(".iw-saved-view")) ?? null;
    observer?.disconnect();
    const watched = area ?? around[around.length - 1];
    if (!watched) return;
    hide();
    observer = new MutationObserver(() => (area ? hide() : find()));
    observer.observe(watched, { childList: true, subtree: true });
  };
  // The widget may render before its saved view is in the page, or before it is in the page at all.
  ctx.timeout(find, 0);
  ctx.onChange(LOOK_AGAIN_ON, find);
  return { el: document.createElement("span"), cleanup: () => observer?.disconnect() };
}
