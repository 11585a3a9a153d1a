// Every key the canvas understands, as data: the popover lists them and the README quotes them, so
// the list cannot drift from what the editor does (view.ts dispatches on the same `action` names).

import type { Ctx } from "../ctx";
import { button, h, uid } from "../dom";

export type KeyAction =
  | "brush" | "eraser" | "rect" | "lasso" | "wand" | "smaller" | "bigger" | "undo" | "redo"
  | "zoom-in" | "zoom-out" | "fit" | "actual" | "layer" | "feather-preview" | "shortcuts";

export const SHORTCUTS: { keys: string; action: KeyAction | "pan" | "subtract" | "wheel"; what: string }[] = [
  { keys: "B", action: "brush", what: "Brush" },
  { keys: "E", action: "eraser", what: "Eraser (a pen's eraser end erases too)" },
  { keys: "R", action: "rect", what: "Rectangle selection" },
  { keys: "L", action: "lasso", what: "Lasso (freehand, filled)" },
  { keys: "W", action: "wand", what: "Magic wand (tolerance slider)" },
  { keys: "Alt + drag/click", action: "subtract", what: "Remove a selection from the mask" },
  { keys: "[ / ]", action: "smaller", what: "Smaller / bigger brush" },
  { keys: "Ctrl/⌘ + Z", action: "undo", what: "Undo (every tool, mask and markup)" },
  { keys: "Ctrl/⌘ + Shift + Z, Ctrl + Y", action: "redo", what: "Redo" },
  { keys: "+ / −", action: "zoom-in", what: "Zoom in / out" },
  { keys: "Ctrl/⌘ + wheel, pinch", action: "wheel", what: "Zoom at the pointer" },
  { keys: "0", action: "fit", what: "Fit the image" },
  { keys: "1", action: "actual", what: "100% (one image pixel per screen pixel)" },
  { keys: "Space + drag, middle button", action: "pan", what: "Pan (or the scrollbars, or two fingers)" },
  { keys: "M", action: "layer", what: "Switch mask / markup (models that take markup)" },
  { keys: "F", action: "feather-preview", what: "Show the feather band" },
  { keys: "?", action: "shortcuts", what: "This list" },
];

/** The action of a key pressed on the canvas (no modifiers except Shift for + and ?), or null. */
export function keyAction(key: string): KeyAction | null {
  const map: Record<string, KeyAction> = {
    b: "brush", e: "eraser", r: "rect", l: "lasso", w: "wand", "[": "smaller", "]": "bigger",
    "+": "zoom-in", "=": "zoom-in", "-": "zoom-out", "_": "zoom-out", "0": "fit", "1": "actual",
    m: "layer", f: "feather-preview", "?": "shortcuts",
  };
  return map[key.length === 1 ? key.toLowerCase() : key] ?? null;
}

/** The "Keys" button and its popover (a non-modal dialog; Escape or the button closes it). */
export function shortcutsPopover(ctx: Ctx): { button: HTMLButtonElement; el: HTMLElement; toggle(open?: boolean): void } {
  const id = uid("keys");
  const btn = button("Keys", {
    class: "iw-keys-button",
    attrs: { "aria-expanded": "false", "aria-controls": id, "data-action": "shortcuts", title: "Every key (?)" },
  });
  const rows = SHORTCUTS.map((s) => h("tr", {}, [h("th", { attrs: { scope: "row" } }, [h("kbd", { text: s.keys })]), h("td", { text: s.what })]));
  const el = h("div", { class: "iw-keys-popover", attrs: { id, role: "dialog", "aria-label": "Canvas keys", "data-role": "shortcuts" } }, [
    h("table", {}, [h("tbody", {}, rows)]),
  ]);
  el.hidden = true;
  const toggle = (open = el.hidden): void => {
    el.hidden = !open;
    btn.setAttribute("aria-expanded", String(open));
  };
  ctx.listen(btn, "click", () => toggle());
  ctx.listen<KeyboardEvent>(el, "keydown", (e) => {
    if (e.key === "Escape") {
      toggle(false);
      btn.focus();
    }
  });
  return { button: btn, el, toggle };
}
