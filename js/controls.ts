// Prompt, mode and the options of the chosen model. Every change writes a whole new `options` dict;
// the kernel answers with `capabilities` and `problems`, which decide what is enabled and what is
// said next to each control.

import { button, fmtInt, h, problemSlot, setTitle, showProblem, uid } from "./dom";
import { CONTROL_PARAMS, type Ctx, type Mode, type Options, type View, maskShown, problemField } from "./model";

const MODES: [Mode, string][] = [
  ["generate", "Generate"],
  ["edit", "Edit"],
  ["variation", "Variation"],
];
const CUSTOM = "__custom__";
const UNSET = "";
const MODERATIONS = ["auto", "low"];
const PROMPT_DEBOUNCE_MS = 250;

export interface ControlsView extends View {
  /** Prompt, mode and options. */
  compose: HTMLElement;
  /** The Generate/Cancel button row; widget.ts adds the status line to it. */
  actions: HTMLElement;
}

interface Field {
  key: string;
  wrap: HTMLElement;
  control: HTMLElement;
  problem: HTMLElement;
}

function field(key: string, label: string, control: HTMLElement, extra: HTMLElement[] = []): Field {
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

function select(key: string): HTMLSelectElement {
  return h("select", { class: "iw-select", attrs: { name: key, "data-option": key } });
}

/** Replace a select's options only when the list changed (keeps focus and scroll), then select `value`. */
function fillSelect(el: HTMLSelectElement, items: [string, string][], value: string): void {
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
function withCurrent(allowed: string[], current: string | null | undefined): [string, string][] {
  const items: [string, string][] = allowed.map((v) => [v, v]);
  if (current === null || current === undefined || current === "") items.unshift([UNSET, "default"]);
  else if (!allowed.includes(current)) items.push([current, `${current} (not available)`]);
  return items;
}

/**
 * Enable a control, or disable it with the reason in its tooltip. A control whose current value is
 * invalid stays enabled when there is a valid choice, so the person can fix what `problems` reports.
 */
function gate(f: Field, lacking: string | null, fixable = false): void {
  const control = f.control as HTMLInputElement | HTMLSelectElement;
  const disabled = lacking !== null && !fixable;
  control.disabled = disabled;
  setTitle(control, disabled ? lacking : null);
  setTitle(f.wrap, disabled ? lacking : null);
  f.wrap.classList.toggle("iw-disabled", disabled);
}

export function createControls(ctx: Ctx): ControlsView {
  // ----------------------------------------------------------------------------------- prompt
  const prompt = h("textarea", {
    class: "iw-prompt",
    attrs: { rows: 3, placeholder: "Describe the image…  (Ctrl+Enter to generate)", "data-option": "prompt" },
  });
  const count = h("span", { class: "iw-count", attrs: { "aria-live": "off" } });
  const promptField = field("prompt", "Prompt", prompt);
  promptField.wrap.classList.add("iw-field-prompt");
  promptField.wrap.querySelector("label")?.after(count);

  let promptTimer: number | null = null;
  const flushPrompt = (): void => {
    ctx.clearTimeout(promptTimer);
    promptTimer = null;
    if (prompt.value !== ctx.options().prompt) ctx.setOptions({ prompt: prompt.value });
  };
  const updateCount = (): void => {
    const max = ctx.caps().prompt_max;
    const len = [...prompt.value].length; // code points, as Python's len() counts them
    count.textContent = max ? `${fmtInt(len)} / ${fmtInt(max)}` : fmtInt(len);
    count.classList.toggle("iw-over", !!max && len > max);
    count.setAttribute("aria-label", max ? `${len} of at most ${max} characters` : `${len} characters`);
  };
  ctx.listen(prompt, "input", () => {
    updateCount();
    ctx.clearTimeout(promptTimer);
    promptTimer = ctx.timeout(flushPrompt, PROMPT_DEBOUNCE_MS);
  });
  ctx.listen(prompt, "change", flushPrompt);
  ctx.listen(prompt, "blur", flushPrompt);

  // ------------------------------------------------------------------------------------- mode
  const modeName = uid("mode");
  const modeInputs = new Map<Mode, HTMLInputElement>();
  const modeLabels = new Map<Mode, HTMLLabelElement>();
  const modeProblem = problemSlot("mode");
  const modeSet = h("fieldset", { class: "iw-modes", attrs: { "data-field": "mode" } }, [
    h("legend", { text: "Mode" }),
  ]);
  const segs = h("div", { class: "iw-seg" });
  for (const [mode, label] of MODES) {
    const input = h("input", { attrs: { type: "radio", name: modeName, value: mode, "data-mode": mode } });
    const lab = h("label", { class: "iw-seg-item" }, [input, h("span", { text: label })]);
    modeInputs.set(mode, input);
    modeLabels.set(mode, lab);
    segs.append(lab);
    ctx.listen(input, "change", () => {
      if (input.checked) ctx.setOptions({ mode });
    });
  }
  modeSet.append(segs, modeProblem);

  // ---------------------------------------------------------------------------------- options
  const modelSel = select("model");
  const sizeSel = select("size");
  const customSize = h("input", {
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
  const qualitySel = select("quality");
  const nInput = h("input", { class: "iw-number", attrs: { type: "number", min: 1, step: 1, "data-option": "n" } });
  const backgroundSel = select("background");
  const formatSel = select("output_format");
  const compression = h("input", {
    class: "iw-number",
    attrs: { type: "number", min: 0, max: 100, step: 1, placeholder: "default", "data-option": "output_compression" },
  });
  const moderationSel = select("moderation");
  const fidelitySel = select("input_fidelity");
  const partialSel = select("partial_images");

  const fields: Record<string, Field> = {
    model: field("model", "Model", modelSel),
    size: field("size", "Size", sizeSel, [customSize]),
    quality: field("quality", "Quality", qualitySel),
    n: field("n", "Images (n)", nInput),
    background: field("background", "Background", backgroundSel),
    output_format: field("output_format", "Format", formatSel),
    output_compression: field("output_compression", "Compression %", compression),
    moderation: field("moderation", "Moderation", moderationSel),
    input_fidelity: field("input_fidelity", "Input fidelity", fidelitySel),
    partial_images: field("partial_images", "Partial previews", partialSel),
  };
  const grid = h("div", { class: "iw-options" }, Object.values(fields).map((f) => f.wrap));
  const modelNote = h("p", { class: "iw-model-note", attrs: { "data-role": "model-note" } });
  const general = h("ul", { class: "iw-problems-general", attrs: { "aria-label": "Other problems" } });

  const onSelect = (el: HTMLSelectElement, write: (v: string) => Partial<Options>): void => {
    ctx.listen(el, "change", () => ctx.setOptions(write(el.value)));
  };
  onSelect(modelSel, (v) => ({ model: v }));
  onSelect(qualitySel, (v) => ({ quality: v === UNSET ? null : v }));
  onSelect(backgroundSel, (v) => ({ background: v === UNSET ? null : v }));
  onSelect(moderationSel, (v) => ({ moderation: v === UNSET ? null : v }));
  onSelect(fidelitySel, (v) => ({ input_fidelity: v === UNSET ? null : v }));
  onSelect(partialSel, (v) => ({ partial_images: Number(v) }));
  onSelect(formatSel, (v) => {
    // Compression only means something for compressible formats: unset it rather than leave a value
    // the person can no longer see or change once the control is disabled.
    const compressible = ctx.caps().compressible_formats ?? ["webp", "jpeg"];
    return compressible.includes(v) ? { output_format: v } : { output_format: v, output_compression: null };
  });
  ctx.listen(sizeSel, "change", () => {
    if (sizeSel.value !== CUSTOM) {
      ctx.setOptions({ size: sizeSel.value });
      return;
    }
    customSize.focus();
    if (customSize.value.trim()) commitCustom();
  });
  const commitCustom = (): void => {
    const raw = customSize.value.trim();
    if (!raw) return;
    const m = /^(\d+)\s*[xX×]\s*(\d+)$/.exec(raw);
    const size = m ? `${m[1]}x${m[2]}` : raw; // anything else: the kernel's problems explain it
    if (size !== ctx.options().size) ctx.setOptions({ size });
  };
  ctx.listen(customSize, "change", commitCustom);
  ctx.listen<KeyboardEvent>(customSize, "keydown", (e) => {
    if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) commitCustom();
  });
  ctx.listen(nInput, "change", () => {
    const v = Math.round(Number(nInput.value));
    const max = Math.max(1, ctx.caps().n_max ?? 10);
    if (!Number.isFinite(v) || nInput.value === "") {
      nInput.value = String(ctx.options().n);
      return;
    }
    ctx.setOptions({ n: Math.min(max, Math.max(1, v)) });
  });
  ctx.listen(compression, "change", () => {
    if (compression.value.trim() === "") {
      ctx.setOptions({ output_compression: null });
      return;
    }
    const v = Math.round(Number(compression.value));
    if (!Number.isFinite(v)) return;
    ctx.setOptions({ output_compression: Math.min(100, Math.max(0, v)) });
  });

  // ---------------------------------------------------------------------------------- actions
  const generate = button("Generate", {
    class: "iw-generate iw-primary",
    attrs: { "data-action": "generate", "aria-keyshortcuts": "Control+Enter Meta+Enter" },
  });
  const actions = h("div", { class: "iw-actions" }, [generate]);
  const runOrCancel = (): void => {
    if (ctx.running()) {
      ctx.send({ type: "cancel" });
      return;
    }
    flushPrompt();
    // The options ride along: ipywidgets may hold a state update back behind an unanswered one, while
    // a custom message goes at once, so the kernel could otherwise run a stale prompt.
    ctx.send({ type: "generate", options: ctx.options() });
  };
  ctx.listen(generate, "click", runOrCancel);
  ctx.listen<KeyboardEvent>(ctx.root, "keydown", (e) => {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || e.altKey) return;
    e.preventDefault();
    if (!ctx.running()) runOrCancel();
  });

  const compose = h("section", { class: "iw-compose", attrs: { "aria-label": "Prompt and options" } }, [
    promptField.wrap,
    modeSet,
    grid,
    modelNote,
    general,
  ]);

  // ------------------------------------------------------------------------------------- sync
  const sync = (): void => {
    const o = ctx.options();
    const c = ctx.caps();
    const problems = ctx.problems();
    const name = o.model || c.model || "this model";

    if (promptTimer === null && prompt.value !== (o.prompt ?? "")) prompt.value = o.prompt ?? "";
    updateCount();

    const endpoints = c.endpoints ?? ["generate", "edit", "variation"];
    for (const [mode, input] of modeInputs) {
      input.checked = o.mode === mode;
      const lacking = endpoints.includes(mode) ? null : `model ${name} has no ${mode} endpoint`;
      input.disabled = lacking !== null && o.mode !== mode;
      const lab = modeLabels.get(mode);
      if (lab) {
        setTitle(lab, lacking);
        setTitle(input, lacking);
        lab.classList.toggle("iw-disabled", input.disabled);
      }
    }

    const models = ctx.list("models");
    fillSelect(modelSel, withCurrent(models, o.model), o.model);
    modelSel.disabled = models.length === 0 && !o.model;

    const sizes = c.sizes ?? [];
    const custom = !!c.custom_size;
    const sizeItems: [string, string][] = sizes.map((v) => [v, v]);
    const isCustom = !!o.size && !sizes.includes(o.size);
    if (custom) sizeItems.push([CUSTOM, "custom…"]);
    else if (isCustom) sizeItems.push([o.size, `${o.size} (not available)`]);
    fillSelect(sizeSel, sizeItems, custom && isCustom ? CUSTOM : o.size);
    customSize.hidden = !custom;
    customSize.disabled = !custom;
    if (custom && isCustom && document.activeElement !== customSize) customSize.value = o.size;
    if (custom && !isCustom && document.activeElement !== customSize) customSize.value = "";
    gate(fields.size!, sizes.length || custom ? null : `model ${name} takes no size`);

    const qualities = c.qualities ?? [];
    fillSelect(qualitySel, withCurrent(qualities, o.quality), o.quality ?? UNSET);
    gate(fields.quality!, qualities.length ? null : `model ${name} has no quality setting`);

    const nMax = Math.max(1, c.n_max ?? 10);
    nInput.max = String(nMax);
    if (document.activeElement !== nInput) nInput.value = String(o.n ?? 1);
    gate(fields.n!, nMax > 1 ? null : `model ${name} makes one image per request`, (o.n ?? 1) !== 1);

    const backgrounds = c.backgrounds ?? [];
    fillSelect(backgroundSel, withCurrent(backgrounds, o.background), o.background ?? UNSET);
    gate(fields.background!, backgrounds.length ? null : `model ${name} has no background setting`);

    const formats = c.output_formats ?? ["png"];
    fillSelect(formatSel, withCurrent(formats, o.output_format), o.output_format);
    gate(
      fields.output_format!,
      formats.length > 1 ? null : `model ${name} only returns ${formats[0] ?? "png"}`,
      !formats.includes(o.output_format) && formats.length > 0,
    );

    const compressible = c.compressible_formats ?? ["webp", "jpeg"];
    if (document.activeElement !== compression) {
      compression.value = o.output_compression === null || o.output_compression === undefined
        ? "" : String(o.output_compression);
    }
    gate(
      fields.output_compression!,
      compressible.includes(o.output_format)
        ? null : `output compression applies only to ${compressible.join(" and ")} output`,
      o.output_compression !== null && o.output_compression !== undefined,
    );

    fillSelect(moderationSel, withCurrent(MODERATIONS, o.moderation), o.moderation ?? UNSET);
    gate(fields.moderation!, c.moderation === false ? `model ${name} has no moderation setting` : null);

    const fidelity = c.input_fidelity ?? [];
    // input_fidelity always offers "default" (unset): it is optional even when the model takes it.
    const fidelityItems = withCurrent(fidelity, o.input_fidelity);
    if (fidelityItems[0]?.[0] !== UNSET) fidelityItems.unshift([UNSET, "default"]);
    fillSelect(fidelitySel, fidelityItems, o.input_fidelity ?? UNSET);
    gate(
      fields.input_fidelity!,
      fidelity.length ? null : `model ${name} does not take input_fidelity`,
      o.input_fidelity !== null && o.input_fidelity !== undefined,
    );

    const maxPartial = c.streaming === false ? 0 : Math.max(0, c.max_partial_images ?? 0);
    const partialItems: [string, string][] = [["0", "off"]];
    for (let i = 1; i <= Math.max(maxPartial, o.partial_images ?? 0); i++) {
      partialItems.push([String(i), i <= maxPartial ? String(i) : `${i} (not available)`]);
    }
    fillSelect(partialSel, partialItems, String(o.partial_images ?? 0));
    gate(
      fields.partial_images!,
      maxPartial > 0 ? null : `model ${name} does not stream partial previews`,
      (o.partial_images ?? 0) > 0,
    );

    // Model status and notes (retired models, previews) as plain text.
    const bits: string[] = [];
    const lifecycle = c.lifecycle_message ?? "";
    if (lifecycle) {
      bits.push(`${lifecycle.charAt(0).toUpperCase()}${lifecycle.slice(1)}.`);
    } else if (c.status && c.status !== "current") {
      bits.push(`${name} is ${c.status}${c.replacement ? `; use ${c.replacement}` : ""}.`);
    }
    if (c.note) bits.push(c.note);
    modelNote.textContent = bits.join(" ");
    modelNote.hidden = bits.length === 0;
    modelNote.classList.toggle("iw-warning", !!c.status && c.status !== "current");

    // Problems next to their control; anything else in the general list.
    const shown = maskShown(ctx);
    const byField = new Map<string, string[]>();
    const other: [string, string][] = [];
    for (const [param, message] of Object.entries(problems)) {
      const key = problemField(param, shown);
      if (key === null) other.push([param, message]);
      else if ((CONTROL_PARAMS as readonly string[]).includes(key)) {
        byField.set(key, [...(byField.get(key) ?? []), String(message)]);
      }
    }
    showProblem(promptField.problem, prompt, byField.get("prompt")?.join(" "));
    showProblem(modeProblem, null, byField.get("mode")?.join(" "));
    for (const f of Object.values(fields)) {
      const target = f.key === "size" && !customSize.hidden && sizeSel.value === CUSTOM ? customSize : f.control;
      showProblem(f.problem, target, byField.get(f.key)?.join(" "));
    }
    general.replaceChildren(
      ...other.map(([param, message]) =>
        h("li", { attrs: { "data-problem-for": param } }, [h("code", { text: param }), ": ", String(message)]),
      ),
    );
    general.hidden = other.length === 0;

    // Generate ⇄ Cancel.
    const running = ctx.running();
    generate.textContent = running ? "Cancel" : "Generate";
    generate.dataset.action = running ? "cancel" : "generate";
    generate.classList.toggle("iw-primary", !running);
    generate.classList.toggle("iw-danger", running);
    setTitle(generate, running ? "Cancel the running request" : "Run the current options (Ctrl+Enter)");
  };

  ctx.onChange(["options", "capabilities", "models", "problems", "status", "mask_base"], sync);
  sync();

  return {
    compose,
    actions,
    dispose: () => {
      // Keep what was typed: write a pending prompt before the handlers go.
      if (promptTimer !== null) flushPrompt();
    },
  };
}
