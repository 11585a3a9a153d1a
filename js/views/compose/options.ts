// The grid of model options (size, quality, n, background, format, compression, moderation, input
// fidelity, partial previews). Each control writes a whole new `options` dict; `sync` fills the choices
// from `capabilities` and disables what the model does not take, with the reason as a tooltip.

import type { Ctx } from "../../ctx";
import { h } from "../../dom";
import type { Capabilities, Options } from "../../protocol";
import { type Field, field, fillSelect, gate, orNull, select, UNSET, withCurrent } from "./fields";
import { NField } from "./n-field";
import { SizeField } from "./size";

const MODERATIONS = ["auto", "low"];
const COMPRESSIBLE = ["webp", "jpeg"];

const isSet = (v: unknown): boolean => v !== null && v !== undefined;

export class OptionFields {
  readonly el: HTMLElement;
  readonly fields: Field[];
  private readonly model = select("model");
  private readonly size: SizeField;
  private readonly quality = select("quality");
  private readonly n: NField;
  private readonly background = select("background");
  /** Said next to Background, only while a value OpenAI calls a preview for this model is chosen. */
  private readonly backgroundPreview = h("p", { class: "iw-hint", attrs: { "data-role": "background-preview" } });
  private readonly format = select("output_format");
  private readonly compression = h("input", {
    class: "iw-number",
    attrs: { type: "number", min: 0, max: 100, step: 1, placeholder: "default", "data-option": "output_compression" },
  });
  private readonly moderation = select("moderation");
  private readonly fidelity = select("input_fidelity");
  private readonly partial = select("partial_images");
  private readonly f: Record<string, Field>;

  constructor(private readonly ctx: Ctx) {
    this.size = new SizeField(ctx);
    this.n = new NField(ctx);
    this.f = {
      model: field("model", "Model", this.model),
      size: this.size.field,
      quality: field("quality", "Quality", this.quality),
      n: this.n.field,
      background: field("background", "Background", this.background, [this.backgroundPreview]),
      output_format: field("output_format", "Format", this.format),
      output_compression: field("output_compression", "Compression %", this.compression),
      moderation: field("moderation", "Moderation", this.moderation),
      input_fidelity: field("input_fidelity", "Input fidelity", this.fidelity),
      partial_images: field("partial_images", "Partial previews", this.partial),
    };
    this.fields = Object.values(this.f);
    this.el = h("div", { class: "iw-options" }, this.fields.map((x) => x.wrap));
    this.listen();
  }

  /** The control a problem for `key` is tied to. */
  problemTarget(f: Field): HTMLElement {
    return f.key === "size" ? this.size.problemTarget() : f.control;
  }

  private listen(): void {
    const { ctx } = this;
    const onSelect = (el: HTMLSelectElement, write: (v: string) => Partial<Options>): void => {
      ctx.listen(el, "change", () => ctx.setOptions(write(el.value)));
    };
    onSelect(this.model, (v) => ({ model: v }));
    onSelect(this.quality, (v) => ({ quality: orNull(v) }));
    onSelect(this.background, (v) => ({ background: orNull(v) }));
    onSelect(this.moderation, (v) => ({ moderation: orNull(v) }));
    onSelect(this.fidelity, (v) => ({ input_fidelity: orNull(v) }));
    onSelect(this.partial, (v) => ({ partial_images: Number(v) }));
    onSelect(this.format, (v) => {
      // Compression only means something for compressible formats: unset it rather than leave a value
      // the person can no longer see or change once the control is disabled.
      const compressible = ctx.caps().compressible_formats ?? COMPRESSIBLE;
      return compressible.includes(v) ? { output_format: v } : { output_format: v, output_compression: null };
    });
    ctx.listen(this.compression, "change", () => {
      if (this.compression.value.trim() === "") {
        ctx.setOptions({ output_compression: null });
        return;
      }
      const v = Math.round(Number(this.compression.value));
      if (!Number.isFinite(v)) return;
      ctx.setOptions({ output_compression: Math.min(100, Math.max(0, v)) });
    });
  }

  sync(o: Options, c: Capabilities, name: string): void {
    const models = this.ctx.list("models");
    const labels = (this.ctx.model.get("model_labels") ?? {}) as Record<string, { label: string; retired: boolean }>;
    fillSelect(this.model, withCurrent(models, o.model).map(([v, l]) => [v, labels[v]?.label ?? l]), o.model);
    for (const opt of Array.from(this.model.options)) {
      // A shut-down model cannot be picked; the chosen one stays selectable so its problem can be read.
      opt.disabled = !!labels[opt.value]?.retired && opt.value !== o.model;
    }
    this.model.disabled = models.length === 0 && !o.model;

    this.size.sync(o, c, name);

    const qualities = c.qualities ?? [];
    fillSelect(this.quality, withCurrent(qualities, o.quality), o.quality ?? UNSET);
    gate(this.f.quality!, qualities.length ? null : `model ${name} has no quality setting`);

    this.n.sync(o, c, name);

    const backgrounds = c.backgrounds ?? [];
    fillSelect(this.background, withCurrent(backgrounds, o.background), o.background ?? UNSET);
    gate(this.f.background!, backgrounds.length ? null : `model ${name} has no background setting`);
    const inPreview = !!o.background && (c.previews?.background ?? []).includes(o.background);
    this.backgroundPreview.textContent = inPreview ? `A ${o.background} background is a preview on ${name}.` : "";
    this.backgroundPreview.hidden = !inPreview;

    this.syncFormat(o, c, name);

    fillSelect(this.moderation, withCurrent(MODERATIONS, o.moderation), o.moderation ?? UNSET);
    gate(this.f.moderation!, c.moderation === false ? `model ${name} has no moderation setting` : null);

    const fidelity = c.input_fidelity ?? [];
    // input_fidelity always offers "default" (unset): it is optional even when the model takes it.
    const fidelityItems = withCurrent(fidelity, o.input_fidelity);
    if (fidelityItems[0]?.[0] !== UNSET) fidelityItems.unshift([UNSET, "default"]);
    fillSelect(this.fidelity, fidelityItems, o.input_fidelity ?? UNSET);
    const lacksFidelity = fidelity.length ? null : `model ${name} does not take input_fidelity`;
    gate(this.f.input_fidelity!, lacksFidelity, isSet(o.input_fidelity));

    this.syncPartial(o, c, name);
  }

  /** Output format and compression (compression only for compressible formats). */
  private syncFormat(o: Options, c: Capabilities, name: string): void {
    const formats = c.output_formats ?? ["png"];
    fillSelect(this.format, withCurrent(formats, o.output_format), o.output_format);
    gate(
      this.f.output_format!,
      formats.length > 1 ? null : `model ${name} only returns ${formats[0] ?? "png"}`,
      !formats.includes(o.output_format) && formats.length > 0,
    );

    const compressible = c.compressible_formats ?? COMPRESSIBLE;
    if (document.activeElement !== this.compression) {
      this.compression.value = isSet(o.output_compression) ? String(o.output_compression) : "";
    }
    gate(
      this.f.output_compression!,
      compressible.includes(o.output_format)
        ? null : `output compression applies only to ${compressible.join(" and ")} output`,
      isSet(o.output_compression),
    );
  }

  /** Partial previews: 0 (off) up to the model's streaming limit. */
  private syncPartial(o: Options, c: Capabilities, name: string): void {
    const maxPartial = c.streaming === false ? 0 : Math.max(0, c.max_partial_images ?? 0);
    const items: [string, string][] = [["0", "off"]];
    for (let i = 1; i <= Math.max(maxPartial, o.partial_images ?? 0); i++) {
      items.push([String(i), i <= maxPartial ? String(i) : `${i} (not available)`]);
    }
    fillSelect(this.partial, items, String(o.partial_images ?? 0));
    gate(
      this.f.partial_images!,
      maxPartial > 0 ? null : `model ${name} does not stream partial previews`,
      (o.partial_images ?? 0) > 0,
    );
  }
}
