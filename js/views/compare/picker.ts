// "Compare" toggles on every result card and history thumbnail, and the (at most two) picked ids.
// The gallery re-renders those lists on every trait change or run selection, so a MutationObserver
// gives new cards their toggle; the same id shows as picked wherever it appears.

import type { Ctx } from "../../ctx";
import { button } from "../../dom";

const TOGGLE = "iw-compare-toggle";
export const TOGGLE_SELECTOR = `button.${TOGGLE}`;

export interface PickerEvents {
  /** A second id was picked: compare these two (A = the older pick). */
  pair(ids: [string, string], from: HTMLElement): void;
  /** One of the picks was un-picked (the other stays picked). */
  unpick(): void;
}

function makeToggle(id: string, label: string): HTMLButtonElement {
  return button("Compare", {
    class: TOGGLE,
    attrs: {
      "data-action": "compare",
      "data-compare-id": id,
      "aria-pressed": "false",
      "aria-label": label,
      title: "Pick two images to compare them",
    },
  });
}

export class ComparePicker {
  private picked: string[] = [];
  private readonly observer = new MutationObserver(() => this.decorate());

  constructor(
    ctx: Ctx,
    private readonly sources: HTMLElement[],
    private readonly events: PickerEvents,
  ) {
    for (const source of sources) {
      this.observer.observe(source, { childList: true, subtree: true });
      ctx.listen<MouseEvent>(source, "click", (e) => this.onClick(e));
    }
    this.decorate();
  }

  clear(): void {
    this.picked = [];
    this.sync();
  }

  private onClick(e: MouseEvent): void {
    const t = (e.target as Element | null)?.closest<HTMLButtonElement>(TOGGLE_SELECTOR);
    const id = t?.dataset.compareId ?? "";
    if (!t || !id) return;
    if (this.picked.includes(id)) {
      this.picked = this.picked.filter((x) => x !== id);
      this.events.unpick();
      this.sync();
      return;
    }
    this.picked = [...this.picked, id].slice(-2);
    this.sync();
    const [a, b] = this.picked;
    if (a && b) this.events.pair([a, b], t);
  }

  /** aria-pressed and the A/B slot on every toggle. */
  private sync(): void {
    for (const source of this.sources) {
      for (const t of source.querySelectorAll<HTMLButtonElement>(TOGGLE_SELECTOR)) {
        const at = this.picked.indexOf(t.dataset.compareId ?? "");
        t.setAttribute("aria-pressed", String(at >= 0));
        if (at >= 0) t.dataset.slot = at === 0 ? "A" : "B";
        else delete t.dataset.slot;
      }
    }
  }

  /** Give every result card and history thumbnail that lacks one its toggle. */
  private decorate(): void {
    for (const source of this.sources) {
      for (const li of source.querySelectorAll<HTMLElement>("li[data-result-id]")) {
        if (li.querySelector(`.${TOGGLE}`)) continue;
        const n = Number(li.dataset.index ?? 0) + 1;
        const toggle = makeToggle(li.dataset.resultId ?? "", `Compare result ${n}`);
        (li.querySelector(".iw-result-actions") ?? li).append(toggle);
      }
      for (const thumb of source.querySelectorAll<HTMLElement>("button.iw-history-thumb[data-item-id]")) {
        const li = thumb.parentElement;
        if (!li || li.querySelector(`.${TOGGLE}`)) continue;
        const n = Array.prototype.indexOf.call(li.parentElement?.children ?? [], li) + 1;
        li.classList.add("iw-history-item");
        li.append(makeToggle(thumb.dataset.itemId ?? "", `Compare image ${n} of this run`));
      }
    }
    this.sync();
  }

  cleanup(): void {
    this.observer.disconnect();
  }
}
