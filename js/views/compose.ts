// Prompt, mode and the options of the chosen model, with the model's status note and the kernel's
// `problems` next to the control they concern (the rest in a general list). The kernel answers every
// `options` write with `capabilities` and `problems`; one `sync` redraws from those traits.

import type { Ctx, View } from "../ctx";
import { h } from "../dom";
import { CONTROL_PARAMS, maskShown, problemField, showProblem } from "../problems";
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

/** Problems keyed by control, and the ones with no control of their own. */
function sortProblems(problems: Record<string, string>, maskVisible: boolean): {
  byField: Map<string, string>;
  other: [string, string][];
} {
  const joined = new Map<string, string[]>();
  const other: [string, string][] = [];
  for (const [param, message] of Object.entries(problems)) {
    const key = problemField(param, maskVisible);
    if (key === null) other.push([param, message]);
    else if ((CONTROL_PARAMS as readonly string[]).includes(key)) {
      joined.set(key, [...(joined.get(key) ?? []), String(message)]);
    }
  }
  return { byField: new Map([...joined].map(([k, v]) => [k, v.join(" ")])), other };
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
    const { byField, other } = sortProblems(prompt.shown(ctx.problems()), maskShown(ctx));
    showProblem(prompt.field.problem, prompt.textarea, byField.get("prompt"));
    showProblem(modes.problem, null, byField.get("mode"));
    for (const f of options.fields) showProblem(f.problem, options.problemTarget(f), byField.get(f.key));
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

  ctx.onChange(["options", "capabilities", "models", "problems", "mask_base"], sync);
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
