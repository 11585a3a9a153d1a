// Keys pressed in the widget's form controls stay in the widget. JupyterLab's notebook handles keydown
// events that bubble up from a cell's output: ArrowDown in a <select> moved focus to "add a cell"
// instead of changing the value, and arrows did not move the sliders. `data-lm-suppress-shortcuts` on
// the root only stops Lumino's command shortcuts, not that handling, so the root stops the propagation
// of plain keys (no Ctrl/Meta/Alt) from form controls. Tab and Escape still reach the host (focus moves
// on, Escape leaves to the notebook), and so do shortcuts with modifiers; listeners on the root itself
// (Ctrl+Enter, Escape in the compare panel) run as before.

import type { Ctx } from "./ctx";

const FORM_CONTROLS = "input, select, textarea, [contenteditable]:not([contenteditable='false'])";
const PASS_THROUGH = new Set(["Tab", "Escape"]);

/** True when `e` is a plain key from a form control (one the host must not act on). */
export function ownsKey(e: KeyboardEvent): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey || PASS_THROUGH.has(e.key)) return false;
  const target = e.target as Element | null;
  return !!target?.closest?.(FORM_CONTROLS);
}

export function keepFormKeys(ctx: Ctx): void {
  ctx.listen<KeyboardEvent>(ctx.root, "keydown", (e) => {
    if (ownsKey(e)) e.stopPropagation();
  });
}
