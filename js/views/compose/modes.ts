// Generate / Edit / Variation / Expand as a radio group; a mode the model has no endpoint for is disabled
// (unless it is the current one, so the person can see and leave it). The keyboard works as in any
// radio group, whatever the browser does natively: one tab stop (the checked mode), arrows move to
// the next or previous enabled mode and select it (wrapping around), Home/End the first/last.

import type { Ctx } from "../../ctx";
import { h, setTitle, uid } from "../../dom";
import { problemSlot } from "../../problems";
import type { Capabilities, Mode, Options } from "../../protocol";

const STEP: Record<string, number> = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 };

const MODES: [Mode, string][] = [
  ["generate", "Generate"],
  ["edit", "Edit"],
  ["variation", "Variation"],
  ["expand", "Expand"],
];
/** The API endpoint a mode uses: expanding (outpainting) is an edit with the new area masked. */
const ENDPOINT: Partial<Record<Mode, string>> = { expand: "edit" };

export class ModeField {
  readonly el: HTMLFieldSetElement;
  readonly problem = problemSlot("mode");
  private readonly items: { mode: Mode; input: HTMLInputElement; label: HTMLLabelElement }[] = [];

  constructor(ctx: Ctx) {
    const name = uid("mode");
    const segs = h("div", { class: "iw-seg" });
    for (const [mode, text] of MODES) {
      const input = h("input", { attrs: { type: "radio", name, value: mode, "data-mode": mode } });
      const label = h("label", { class: "iw-seg-item" }, [input, h("span", { text })]);
      this.items.push({ mode, input, label });
      segs.append(label);
      ctx.listen(input, "change", () => {
        if (input.checked) ctx.setOptions({ mode });
      });
    }
    ctx.listen<KeyboardEvent>(segs, "keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const next = this.target(e.key, e.target);
      if (next === undefined) return;
      e.preventDefault();
      if (!next) return;
      next.input.focus();
      if (!next.input.checked) {
        next.input.checked = true;
        ctx.setOptions({ mode: next.mode });
      }
    });
    this.el = h("fieldset", { class: "iw-modes", attrs: { "data-field": "mode" } }, [h("legend", { text: "Mode" })]);
    this.el.append(segs, this.problem);
  }

  /** The mode a key moves to (null: none enabled), or undefined when the key is not the group's. */
  private target(key: string, from: EventTarget | null): (typeof this.items)[number] | null | undefined {
    const enabled = this.items.filter((item) => !item.input.disabled);
    if (key === "Home") return enabled[0] ?? null;
    if (key === "End") return enabled[enabled.length - 1] ?? null;
    const step = STEP[key];
    if (step === undefined) return undefined;
    const at = enabled.findIndex((item) => item.input === from);
    if (at < 0) return enabled[0] ?? null;
    return enabled[(at + step + enabled.length) % enabled.length] ?? null;
  }

  sync(o: Options, c: Capabilities, name: string): void {
    const endpoints = c.endpoints ?? ["generate", "edit", "variation"];
    for (const { mode, input, label } of this.items) {
      input.checked = o.mode === mode;
      const endpoint = ENDPOINT[mode] ?? mode;
      // GPT image models have no variations endpoint: a variation goes through edit, as `iw.vary` does.
      const viaEdit = mode === "variation" && !endpoints.includes("variation") && endpoints.includes("edit");
      const lacking = endpoints.includes(endpoint) || viaEdit ? null : `model ${name} has no ${endpoint} endpoint`;
      input.disabled = lacking !== null && o.mode !== mode;
      const text = label.querySelector("span");
      if (mode === "variation" && text) text.textContent = viaEdit ? "Variation (via edit)" : "Variation";
      const why = viaEdit ? `model ${name} has no variation endpoint: variations are made through edit, as iw.vary does`
        : lacking;
      setTitle(label, why);
      setTitle(input, why);
      label.classList.toggle("iw-disabled", input.disabled);
    }
  }
}
