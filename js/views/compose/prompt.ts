// The prompt: a textarea with a code-point counter against the model's limit. Typing is written to
// `options.prompt` after a short pause (or on change/blur, before a run, and at cleanup).
// A new widget has an empty prompt, which the kernel reports as a problem; that problem is held back
// (no message, no red border) until the person has typed in the field and left it, or tried to run.
// The kernel's verdict on an empty prompt is also held back while the field has text the kernel has
// not judged yet: it would flash up (and shift the layout under the pointer) until the kernel answers.

import type { Ctx } from "../../ctx";
import { fmtInt, h } from "../../dom";
import type { Capabilities, Options } from "../../protocol";
import { type Field, field } from "./fields";

const DEBOUNCE_MS = 250;

export class PromptField {
  readonly field: Field;
  readonly textarea = h("textarea", {
    class: "iw-prompt",
    attrs: { rows: 3, placeholder: "Describe the image…  (Ctrl+Enter to generate)", "data-option": "prompt" },
  });
  private readonly count = h("span", { class: "iw-count", attrs: { "aria-live": "off" } });
  /** The pending debounced write, if any. */
  private timer: number | null = null;
  /** Typed in at least once (leaving the field then engages it). */
  private typed = false;
  /** The empty prompt's problem may show: the field was typed in and left, or a run was tried. */
  private engaged = false;
  /** The kernel's message for an empty prompt (seen while the prompt was empty). */
  private emptyMessage: string | null = null;
  /** A pointer button is down: leaving the field by clicking engages only once it is released. */
  private pressing = false;
  private engageOnRelease = false;

  /** @param reveal called when held-back problems may now show. */
  constructor(
    private readonly ctx: Ctx,
    private readonly reveal: () => void = () => undefined,
  ) {
    this.field = field("prompt", "Prompt", this.textarea);
    this.field.wrap.classList.add("iw-field-prompt");
    this.field.wrap.querySelector("label")?.after(this.count);
    ctx.listen(this.textarea, "input", () => {
      this.typed = true;
      this.updateCount(ctx.caps());
      ctx.clearTimeout(this.timer);
      this.timer = ctx.timeout(() => this.flush(), DEBOUNCE_MS);
    });
    ctx.listen(this.textarea, "change", () => this.flush());
    ctx.listen(this.textarea, "blur", () => {
      this.flush();
      if (!this.typed || this.textarea.value.trim() !== "") return;
      // Left empty. When that happened by pressing on a button (Generate), the message appears only
      // after the click: shown at once it moves the button away from under the pointer.
      if (this.pressing) this.engageOnRelease = true;
      else this.engage();
    });
    ctx.listen(document, "pointerdown", () => {
      this.pressing = true;
    }, { capture: true });
    const released = (): void => {
      this.pressing = false;
      if (!this.engageOnRelease) return;
      this.engageOnRelease = false;
      ctx.timeout(() => this.engage(), 0); // after the click that this release makes
    };
    ctx.listen(document, "pointerup", released, { capture: true });
    ctx.listen(document, "pointercancel", released, { capture: true });
    // A run the kernel was asked for (from this page or from Python) counts as an attempt.
    ctx.onChange(["status", "error"], () => {
      if (ctx.status().state !== "idle" || ctx.model.get("error")?.code === "invalid_options") this.engage();
    });
  }

  /** From now on the prompt's problems show (a Generate attempt, or typed in and left). */
  engage(): void {
    if (this.engaged) return;
    this.engaged = true;
    this.reveal();
  }

  /**
   * `problems` as they should show now: the prompt's problem is held back while the field is empty
   * and not engaged, and while the field has text but the problem is the kernel's verdict on an empty
   * prompt (its answer to the text is still on the way).
   */
  shown(problems: Record<string, string>): Record<string, string> {
    const message = problems.prompt;
    if (message === undefined) return problems;
    if ((this.ctx.options().prompt ?? "").trim() === "") this.emptyMessage = message;
    const empty = this.textarea.value.trim() === "";
    const held = empty ? !this.engaged : message === this.emptyMessage;
    if (!held) return problems;
    const { prompt: _held, ...rest } = problems;
    return rest;
  }

  get pending(): boolean {
    return this.timer !== null;
  }

  /** Write what was typed now (cancelling the pending write). */
  flush(): void {
    this.ctx.clearTimeout(this.timer);
    this.timer = null;
    if (this.textarea.value !== this.ctx.options().prompt) this.ctx.setOptions({ prompt: this.textarea.value });
  }

  /** Follow the trait, unless a typed value is still waiting to be written. */
  sync(o: Options, c: Capabilities): void {
    if (this.timer === null && this.textarea.value !== (o.prompt ?? "")) this.textarea.value = o.prompt ?? "";
    this.updateCount(c);
  }

  private updateCount(c: Capabilities): void {
    const max = c.prompt_max;
    const len = [...this.textarea.value].length; // code points, as Python's len() counts them
    this.count.textContent = max ? `${fmtInt(len)} / ${fmtInt(max)}` : fmtInt(len);
    this.count.classList.toggle("iw-over", !!max && len > max);
    this.count.setAttribute("aria-label", max ? `${len} of at most ${max} characters` : `${len} characters`);
  }
}
