// When the widget loses its kernel (a restart, a shut-down kernel: Ctx.lost), it says so plainly, says
// how to get a working one back, and disables every control that needs the kernel. Copy code (which
// works without it) and Dismiss stay usable. Placed last in widget.ts so its pass runs after every other
// view has redrawn.

import type { Ctx, View } from "../ctx";
import { h } from "../dom";
import type { WidgetModel } from "../protocol";

export const LOST_TITLE = "This widget lost its kernel";
export const LOST_TEXT =
  "The kernel was restarted or shut down, so these controls can no longer do anything. Re-run the cell " +
  "that made the widget to get a working one; the images it made are still saved on disk.";
const LOST_TIP = "The widget lost its kernel: re-run the cell that made it";

/** Controls that work without a kernel. */
export const STILL_WORKS = '[data-action="copy-code"], [data-action="dismiss"], [data-action="close"], [data-action="close-compare"]';

const TRAITS: (keyof WidgetModel & string)[] = [
  "options", "capabilities", "problems", "inputs", "status", "results", "history", "mask_base", "error",
];

export function renderKernel(ctx: Ctx, onLost: () => void): View {
  const el = h("div", { class: "iw-kernel-lost", attrs: { role: "alert", "data-role": "kernel-lost" } }, [
    h("strong", { text: LOST_TITLE }),
    h("p", { text: LOST_TEXT }),
  ]);
  el.hidden = true;

  const disable = (): void => {
    for (const node of ctx.root.querySelectorAll<HTMLElement>("button, input, select, textarea")) {
      if (node.matches(STILL_WORKS) || (node as HTMLInputElement).disabled) continue;
      (node as HTMLInputElement).disabled = true;
      node.title = LOST_TIP;
    }
  };

  ctx.onLost(() => {
    el.hidden = false;
    ctx.root.dataset.kernel = "lost";
    onLost();
    disable();
  });
  // A view that redraws later (from state the page still held) must not bring a control back to life.
  ctx.onChange(TRAITS, () => {
    if (ctx.lost) disable();
  });
  return { el, cleanup: () => undefined };
}
