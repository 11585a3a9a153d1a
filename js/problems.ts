// Where the kernel's validation `problems` (keyed by API parameter name) are shown: next to the control
// for that parameter, in the inputs or mask view, or in the general list under the options.

import type { Ctx } from "./ctx";
import { h, setAttrs, uid } from "./dom";

/** Option keys that have their own control in the compose view. */
export const CONTROL_PARAMS = [
  "prompt", "mode", "model", "size", "quality", "n", "background", "output_format",
  "output_compression", "moderation", "input_fidelity", "partial_images",
] as const;

/** Problem parameter names shown next to a control with another name. */
const PROBLEM_ALIASES: Record<string, string> = { stream: "partial_images", endpoint: "mode" };

/**
 * Where a problem is shown: a control key, "image" (inputs view), "mask" (mask view, only while it is
 * visible), or null for the general list.
 */
export function problemField(param: string, maskShown: boolean): string | null {
  const key = PROBLEM_ALIASES[param] ?? param;
  if ((CONTROL_PARAMS as readonly string[]).includes(key) || key === "image") return key;
  if (key === "mask" && maskShown) return key;
  return null;
}

/** The mask editor is shown in edit mode when there is a first input to paint on. */
export function maskShown(ctx: Ctx): boolean {
  return ctx.options().mode === "edit" && ctx.bytes("mask_base").byteLength > 0;
}

/** The element that shows a validation message next to the control for `param`. */
export function problemSlot(param: string): HTMLElement {
  const slot = h("div", { class: "iw-problem", attrs: { "data-problem-for": param, id: uid(`problem-${param}`) } });
  slot.hidden = true;
  return slot;
}

/** Show (or clear) a problem message and tie it to its control for screen readers. */
export function showProblem(slot: HTMLElement, control: HTMLElement | null, message: string | undefined): void {
  slot.textContent = message ?? "";
  slot.hidden = !message;
  if (control) {
    setAttrs(control, { "aria-invalid": message ? "true" : null, "aria-describedby": message ? slot.id : null });
  }
}
