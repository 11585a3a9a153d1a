// The saved view (widget/saved_view.py) is the static picture the kernel publishes beside the widget for a
// notebook reopened without its live state. While this widget is live, its own cell's saved view is hidden —
// only that one: a saved view in another notebook or cell, whose widget is gone, must stay visible. The
// kernel replaces it after every run (update_display), so new ones are hidden as they arrive.

import type { Ctx, View } from "../ctx";

/** How far up from the widget its output area can be (the saved view sits in the same cell's outputs). */
const MAX_LEVELS = 6;
const RETRIES_MS = [0, 200, 1000, 3000];

function outputArea(start: Element): Element | null {
  let node: Element | null = start.parentElement;
  for (let level = 0; node && level < MAX_LEVELS; level++, node = node.parentElement) {
    if (node.querySelector(".iw-saved-view")) return node;
  }
  return null;
}

export function hideSavedView(ctx: Ctx): View {
  let observer: MutationObserver | null = null;
  const hide = (area: Element): void => {
    for (const node of area.querySelectorAll<HTMLElement>(".iw-saved-view")) node.style.display = "none";
  };
  const find = (): void => {
    if (observer || ctx.disposed) return;
    const area = outputArea(ctx.root);
    if (!area) return;
    hide(area);
    observer = new MutationObserver(() => hide(area));
    observer.observe(area, { childList: true, subtree: true });
  };
  // The widget may render before its saved view is in the page, or before it is in the page at all.
  for (const ms of RETRIES_MS) ctx.timeout(find, ms);
  return { el: document.createElement("span"), cleanup: () => observer?.disconnect() };
}
