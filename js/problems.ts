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
 * Where a problem is shown: a control key, "image" (inputs view), "mask" or "markup" (mask view, only while it is
 * visible), or null for the general list.
 */
export function problemField(param: string, maskShown: boolean): string | null {
  const key = PROBLEM_ALIASES[param] ?? param;
  if ((CONTROL_PARAMS as readonly string[]).includes(key) || key === "image") return key;
  if ((key === "mask" || key === "markup") && maskShown) return key;
  return null;
}

/** The mask editor is shown in edit mode when there is a first input to paint on. */
export function maskShown(ctx: Ctx): boolean {
  return ctx.options().mode === "edit" && ctx.bytes("mask_base").byteLength > 0;
}

/** A control's problem: the text shown next to it, or (empty text) the control whose slot shows it. */
export interface FieldProblem {
  text: string;
  owner: string | null;
}

/**
 * Where each problem shows. The kernel lists a problem that involves several controls under each of
 * their names with the same sentence (its own parameter first): the first control shows it, the others
 * only point at it. Sentences several problems join with "; " are placed one by one.
 */
export function placeProblems(problems: Record<string, string>, maskVisible: boolean): {
  byField: Map<string, FieldProblem>;
  other: [string, string][];
} {
  const owners = new Map<string, string>();
  const shown = new Map<string, string[]>();
  const pointers = new Map<string, string>();
  const other: [string, string][] = [];
  for (const [param, message] of Object.entries(problems)) {
    const key = problemField(param, maskVisible);
    if (key === null) {
      other.push([param, String(message)]);
      continue;
    }
    for (const part of String(message).split("; ")) {
      const owner = owners.get(part);
      if (owner === undefined) {
        owners.set(part, key);
        shown.set(key, [...(shown.get(key) ?? []), part]);
      } else if (owner !== key && !pointers.has(key)) pointers.set(key, owner);
    }
  }
  const byField = new Map<string, FieldProblem>();
  for (const key of new Set([...shown.keys(), ...pointers.keys()])) {
    const text = (shown.get(key) ?? []).join("; ");
    byField.set(key, { text, owner: text ? null : (pointers.get(key) ?? null) });
  }
  return { byField, other };
}

/** The element that shows a validation message next to the control for `param`. */
export function problemSlot(param: string): HTMLElement {
  const slot = h("div", { class: "iw-problem", attrs: { "data-problem-for": param, id: uid(`problem-${param}`) } });
  slot.hidden = true;
  return slot;
}

/**
 * Show (or clear) a problem message and tie it to its control for screen readers. With no message but
 * `shownAt` (the slot of another control that shows this control's problem), the control is still
 * marked invalid and described by that slot.
 */
export function showProblem(
  slot: HTMLElement,
  control: HTMLElement | null,
  message: string | undefined,
  shownAt: HTMLElement | null = null,
): void {
  slot.textContent = message ?? "";
  slot.hidden = !message;
  const describedBy = message ? slot : shownAt;
  if (control) {
    setAttrs(control, { "aria-invalid": describedBy ? "true" : null, "aria-describedby": describedBy?.id ?? null });
  }
}
