// Images (n): the box always shows the number that will run. A value the model cannot take (empty, not
// a number, not whole, below 1, above the model's n_max) is replaced by the one that will run, and a
// note next to the box says why — never a silent change (2.5 must not quietly become 3 paid images).

import type { Ctx } from "../../ctx";
import { h } from "../../dom";
import type { Capabilities, Options } from "../../protocol";
import { type Field, field, gate } from "./fields";

const images = (n: number): string => `${n} image${n === 1 ? "" : "s"}`;

/**
 * The n that runs when `raw` is typed into the box, and why it differs from what was typed ("" when it
 * does not). Not whole: rounded down (fewer paid images, never more); then kept within 1…max.
 */
export function nToRun(raw: string, badInput: boolean, current: number, max: number, model: string): {
  value: number;
  why: string;
} {
  const text = raw.trim();
  const typed = Number(text);
  if (badInput || text === "" || !Number.isFinite(typed)) {
    const what = badInput || text !== "" ? "Not a number" : "No number given";
    return { value: current, why: `${what} — ${images(current)} will run, as before` };
  }
  const whole = Math.floor(typed);
  const value = Math.min(max, Math.max(1, whole));
  let reason = "";
  if (whole !== typed) reason = `${text} is not a whole number`;
  else if (typed < 1) reason = `${text} is less than 1`;
  else if (typed > max) reason = `${model} makes at most ${images(max)} per request`;
  return { value, why: reason ? `${reason} — ${images(value)} will run` : "" };
}

export class NField {
  readonly input = h("input", { class: "iw-number", attrs: { type: "number", min: 1, step: 1, "data-option": "n" } });
  private readonly note = h("p", { class: "iw-field-note", attrs: { "data-note-for": "n", "aria-live": "polite" } });
  readonly field: Field = field("n", "Images (n)", this.input, [this.note]);
  /** The n the note explains; the note goes when n becomes anything else. */
  private noted: number | null = null;
  /** n as last shown, and the n this box wrote itself (so a lower n from the kernel can be told apart). */
  private last: number | null = null;
  private written: number | null = null;

  constructor(private readonly ctx: Ctx) {
    this.note.hidden = true;
    ctx.listen(this.input, "change", () => this.commit());
  }

  private commit(): void {
    const o = this.ctx.options();
    const max = Math.max(1, this.ctx.caps().n_max ?? 10);
    const { value, why } = nToRun(this.input.value, this.input.validity.badInput, o.n ?? 1, max, o.model);
    this.input.value = String(value);
    this.show(why, value);
    if (value !== o.n) {
      this.written = value;
      this.ctx.setOptions({ n: value });
    }
  }

  /** The note is a polite live region: a screen reader hears it when it appears. */
  private show(why: string, value: number): void {
    this.note.textContent = why;
    this.note.hidden = !why;
    this.noted = why ? value : null;
  }

  sync(o: Options, c: Capabilities, name: string): void {
    const nMax = Math.max(1, c.n_max ?? 10);
    const n = o.n ?? 1;
    this.input.max = String(nMax);
    if (document.activeElement !== this.input) this.input.value = String(n);
    gate(this.field, nMax > 1 ? null : `model ${name} makes one image per request`, n !== 1);
    // The kernel lowered n to a new model's limit: say so rather than change it silently.
    if (this.last !== null && n < this.last && n === nMax && n !== this.written) {
      this.show(`${name} makes at most ${images(nMax)} per request — ${images(n)} will run`, n);
    } else if (this.noted !== null && this.noted !== n) {
      this.show("", n);
    }
    if (this.written === n) this.written = null;
    this.last = n;
  }
}
