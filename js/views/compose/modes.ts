// Generate / Edit / Variation as a radio group; a mode the model has no endpoint for is disabled
// (unless it is the current one, so the person can see and leave it).

import type { Ctx } from "../../ctx";
import { h, setTitle, uid } from "../../dom";
import { problemSlot } from "../../problems";
import type { Capabilities, Mode, Options } from "../../protocol";

const MODES: [Mode, string][] = [
  ["generate", "Generate"],
  ["edit", "Edit"],
  ["variation", "Variation"],
];

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
    this.el = h("fieldset", { class: "iw-modes", attrs: { "data-field": "mode" } }, [h("legend", { text: "Mode" })]);
    this.el.append(segs, this.problem);
  }

  sync(o: Options, c: Capabilities, name: string): void {
    const endpoints = c.endpoints ?? ["generate", "edit", "variation"];
    for (const { mode, input, label } of this.items) {
      input.checked = o.mode === mode;
      const lacking = endpoints.includes(mode) ? null : `model ${name} has no ${mode} endpoint`;
      input.disabled = lacking !== null && o.mode !== mode;
      setTitle(label, lacking);
      setTitle(input, lacking);
      label.classList.toggle("iw-disabled", input.disabled);
    }
  }
}
