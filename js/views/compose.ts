// Prompt, mode and the options of the chosen model, with the model's status note and the kernel's
// `problems` next to the control they concern (the rest in a general list). The kernel answers every
// `options` write with `capabilities` and `problems`; one `sync` redraws from those traits.

import type { Ctx, View } from "../ctx";
import { h } from "../dom";
import { type FieldProblem, maskShown, placeProblems, showProblem } from "../problems";
import type { Capabilities } from "../protocol";
import { ModeField } from "./compose/modes";
import { OptionFields } from "./compose/options";
import { PromptField } from "./compose/prompt";

export interface ComposeView extends View {
  /** Before a run: write a prompt still waiting for its debounce, and show the prompt's problems. */
  flushPrompt(): void;
}

/** Model status and notes (retired models, previews) as plain text. */
function syncModelNote(note: HTMLElement, c: Capabilities, name: string): void {
  const bits: string[] = [];
  const outdated = !!c.status && c.status !== "current";
  const lifecycle = c.lifecycle_message ?? "";
  if (lifecycle) bits.push(`${lifecycle.charAt(0).toUpperCase()}${lifecycle.slice(1)}.`);
  else if (outdated) bits.push(`${name} is ${c.status}${c.replacement ? `; use ${c.replacement}` : ""}.`);
  if (c.note) bits.push(c.note);
  note.textContent = bits.join(" ");
  note.hidden = bits.length === 0;
  note.classList.toggle("iw-warning", outdated);
}

export function renderCompose(ctx: Ctx): ComposeView {
  const prompt = new PromptField(ctx, () => showProblems());
  const modes = new ModeField(ctx);
  const options = new OptionFields(ctx);
  const modelNote = h("p", { class: "iw-model-note", attrs: { "data-role": "model-note" } });
  const general = h("ul", { class: "iw-problems-general", attrs: { "aria-label": "Other problems" } });
  const el = h("section", { class: "iw-compose", attrs: { "aria-label": "Prompt and options" } }, [
    prompt.field.wrap,
    modes.el,
    options.el,
    modelNote,
    general,
  ]);

  const showProblems = (): void => {
    const { byField, other } = placeProblems(prompt.shown(ctx.problems()), maskShown(ctx));
    // A problem shown at another control (e.g. Background's, which Format shares) marks this one too.
    const shownAt = (p: FieldProblem | undefined): HTMLElement | null => {
      if (!p?.owner) return null;
      const selector = `.iw-problem[data-problem-for="${CSS.escape(p.owner)}"]`;
      return el.querySelector<HTMLElement>(selector) ?? ctx.root.querySelector<HTMLElement>(selector);
    };
    const put = (key: string, slot: HTMLElement, control: HTMLElement | null): void => {
      const p = byField.get(key);
      showProblem(slot, control, p?.text, shownAt(p));
    };
    put("prompt", prompt.field.problem, prompt.textarea);
    put("mode", modes.problem, null);
    modes.el.classList.toggle("iw-invalid", byField.has("mode"));
    for (const f of options.fields) put(f.key, f.problem, options.problemTarget(f));
    general.replaceChildren(
      ...other.map(([param, message]) =>
        h("li", { attrs: { "data-problem-for": param } }, [h("code", { text: param }), ": ", String(message)]),
      ),
    );
    general.hidden = other.length === 0;
  };

  const sync = (): void => {
    const o = ctx.options();
    const c = ctx.caps();
    const name = o.model || c.model || "this model";
    prompt.sync(o, c);
    modes.sync(o, c, name);
    options.sync(o, c, name);
    syncModelNote(modelNote, c, name);
    showProblems();
  };

  ctx.onChange(["options", "capabilities", "models", "model_labels", "problems", "mask_base", "inputs"], sync);
  sync();

  return {
    el,
    flushPrompt: () => {
      prompt.flush();
      prompt.engage();
    },
    // Keep what was typed: write a pending prompt before the handlers go.
    cleanup: () => {
      if (prompt.pending) prompt.flush();
    },
  };
}
