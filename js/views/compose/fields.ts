// Building blocks of the option controls: a labelled field with its problem slot, selects that keep
// focus when their items do not change, and the enable/disable rule with the reason as a tooltip.

import { h, setTitle, uid } from "../../dom";
import { problemSlot } from "../../problems";

/** The select value for "not set" (written to the options as null). */
export const UNSET = "";

export interface Field {
  key: string;
  wrap: HTMLElement;
  control: HTMLElement;
  problem: HTMLElement;
}

export function field(key: string, label: string, control: HTMLElement, extra: HTMLElement[] = []): Field {
  control.id = uid(key);
  const problem = problemSlot(key);
  const wrap = h("div", { class: "iw-field", attrs: { "data-field": key } }, [
    h("label", { text: label, attrs: { for: control.id } }),
    control,
    ...extra,
    problem,
  ]);
  return { key, wrap, control, problem };
}

export function select(key: string): HTMLSelectElement {
  return h("select", { class: "iw-select", attrs: { name: key, "data-option": key } });
}

/** Replace a select's options only when the list changed (keeps focus and scroll), then select `value`. */
export function fillSelect(el: HTMLSelectElement, items: [string, string][], value: string): void {
  const sig = items.map(([v, l]) => `${v}\u0000${l}`).join("\u0001");
  if (el.dataset.sig !== sig) {
    el.replaceChildren(...items.map(([v, l]) => h("option", { text: l, attrs: { value: v } })));
    el.dataset.sig = sig;
  }
  el.value = value;
}

/**
 * Items for `allowed`, plus the current value marked unavailable when the model does not take it, and
 * a "default" entry (value "", written as null) when the current value is unset.
 */
export function withCurrent(allowed: string[], current: string | null | undefined): [string, string][] {
  const items: [string, string][] = allowed.map((v) => [v, v]);
  if (current === null || current === undefined || current === "") items.unshift([UNSET, "default"]);
  else if (!allowed.includes(current)) items.push([current, `${current} (not available)`]);
  return items;
}

/**
 * Enable a control, or disable it with the reason in its tooltip. A control whose current value is
 * invalid stays enabled when there is a valid choice, so the person can fix what `problems` reports.
 */
export function gate(f: Field, lacking: string | null, fixable = false): void {
  const control = f.control as HTMLInputElement | HTMLSelectElement;
  const disabled = lacking !== null && !fixable;
  control.disabled = disabled;
  setTitle(control, disabled ? lacking : null);
  setTitle(f.wrap, disabled ? lacking : null);
  f.wrap.classList.toggle("iw-disabled", disabled);
}

/** `null` for the UNSET select value, the value itself otherwise. */
export function orNull(value: string): string | null {
  return value === UNSET ? null : value;
}
