// The size select, with a free "custom WxH" text box for models that take any size. A custom value is
// normalised to "WxH" when it looks like one; anything else goes as typed and the kernel's `problems`
// explain it.

import type { Ctx } from "../../ctx";
import { h } from "../../dom";
import type { Capabilities, Options } from "../../protocol";
import { type Field, field, fillSelect, gate, select } from "./fields";

const CUSTOM = "__custom__";
/** `size="match"`: the allowed size closest to the first input's shape; results come back at its exact size. */
const MATCH = "match";

export class SizeField {
  readonly select = select("size");
  readonly custom = h("input", {
    class: "iw-custom-size",
    attrs: {
      type: "text",
      inputmode: "numeric",
      placeholder: "custom WxH",
      "aria-label": "Custom size, width x height in pixels",
      "data-option": "custom_size",
      pattern: "\\s*\\d+\\s*[xX×]\\s*\\d+\\s*",
      spellcheck: "false",
    },
  });
  readonly field: Field = field("size", "Size", this.select, [this.custom]);

  constructor(private readonly ctx: Ctx) {
    ctx.listen(this.select, "change", () => {
      if (this.select.value !== CUSTOM) {
        ctx.setOptions({ size: this.select.value });
        return;
      }
      this.custom.focus();
      if (this.custom.value.trim()) this.commitCustom();
    });
    ctx.listen(this.custom, "change", () => this.commitCustom());
    ctx.listen<KeyboardEvent>(this.custom, "keydown", (e) => {
      if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) this.commitCustom();
    });
  }

  private commitCustom(): void {
    const raw = this.custom.value.trim();
    if (!raw) return;
    const m = /^(\d+)\s*[xX×]\s*(\d+)$/.exec(raw);
    const size = m ? `${m[1]}x${m[2]}` : raw;
    if (size !== this.ctx.options().size) this.ctx.setOptions({ size });
  }

  /** The control a size problem is tied to: the text box while a custom size is chosen. */
  problemTarget(): HTMLElement {
    return !this.custom.hidden && this.select.value === CUSTOM ? this.custom : this.select;
  }

  sync(o: Options, c: Capabilities, name: string): void {
    const sizes = c.sizes ?? [];
    const custom = !!c.custom_size;
    const items: [string, string][] = sizes.map((v) => [v, v]);
    const first = this.ctx.list("inputs")[0];
    if (o.size === MATCH || ((o.mode === "edit" || o.mode === "expand") && first)) {
      items.unshift([MATCH, first ? `Match input (${first.width}×${first.height})` : "Match input"]);
    }
    const isCustom = !!o.size && o.size !== MATCH && !sizes.includes(o.size);
    if (custom) items.push([CUSTOM, "custom…"]);
    else if (isCustom) items.push([o.size, `${o.size} (not available)`]);
    fillSelect(this.select, items, custom && isCustom ? CUSTOM : o.size);
    this.custom.hidden = !custom;
    this.custom.disabled = !custom;
    if (custom && document.activeElement !== this.custom) this.custom.value = isCustom ? o.size : "";
    gate(this.field, sizes.length || custom ? null : `model ${name} takes no size`);
  }
}
