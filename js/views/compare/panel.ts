// The compare panel's DOM and display: two figures side by side, or stacked under an A/B slider (B
// underneath, A on top clipped from the right, so the handle shows A left of it and B right; drag on
// the picture or use the range under it), and a table of the parameters that differ. Text from
// records only ever goes in with textContent.

import type { Ctx } from "../../ctx";
import { button, h, uid } from "../../dom";
import type { CompareDifference } from "../../protocol";

export type CompareMode = "side" | "slider";

/** Caption of one side: prompt and a detail line. */
export interface Caption {
  prompt: string;
  detail: string;
}

/** A parameter value for the table: strings as they are, everything else as JSON, unset as a dash. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value === "" ? "(empty)" : value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

class Figure {
  readonly img: HTMLImageElement;
  readonly el: HTMLElement;
  private readonly prompt = h("span", { class: "iw-compare-prompt" });
  private readonly detail = h("span", { class: "iw-compare-detail" });

  constructor(readonly side: "a" | "b") {
    this.img = h("img", { attrs: { alt: "", "data-side": side, draggable: "false" } });
    this.el = h("figure", { class: "iw-compare-fig", attrs: { "data-side": side } }, [
      h("div", { class: "iw-compare-frame" }, [this.img]),
      h("figcaption", {}, [h("span", { class: "iw-compare-tag", text: side.toUpperCase() }), this.prompt, this.detail]),
    ]);
  }

  caption(c: Caption): void {
    this.prompt.textContent = c.prompt || "(no prompt)";
    this.detail.textContent = c.detail;
    this.img.alt = `${this.side.toUpperCase()}: ${c.prompt || "image"}`;
  }
}

export class ComparePanel {
  readonly el: HTMLElement;
  readonly closeBtn = button("Close", {
    class: "iw-compare-close",
    attrs: { "data-action": "close-compare", "aria-label": "Close compare" },
  });
  private readonly sideBtn = button("Side by side", { attrs: { "data-mode": "side", "aria-pressed": "true" } });
  private readonly sliderBtn = button("A/B slider", { attrs: { "data-mode": "slider", "aria-pressed": "false" } });
  private readonly status = h("p", { class: "iw-compare-status", attrs: { "aria-live": "polite" } });
  private readonly a = new Figure("a");
  private readonly b = new Figure("b");
  private readonly sideView = h("div", { class: "iw-compare-side" }, [this.a.el, this.b.el]);
  private readonly under = h("img", { class: "iw-compare-under", attrs: { alt: "", "data-side": "b", draggable: "false" } });
  private readonly over = h("img", { class: "iw-compare-over", attrs: { alt: "", "data-side": "a", draggable: "false" } });
  private readonly divider = h("div", { class: "iw-compare-divider", attrs: { "aria-hidden": "true" } });
  private readonly stage = h("div", { class: "iw-compare-stage" }, [
    this.under,
    this.over,
    this.divider,
    h("span", { class: "iw-compare-tag iw-compare-tag-a", text: "A", attrs: { "aria-hidden": "true" } }),
    h("span", { class: "iw-compare-tag iw-compare-tag-b", text: "B", attrs: { "aria-hidden": "true" } }),
  ]);
  private readonly range: HTMLInputElement;
  private readonly sliderView: HTMLElement;
  private readonly diffBody = h("tbody", {});
  private readonly diffTable: HTMLElement;
  private readonly same = h("p", { class: "iw-compare-same", text: "No differing parameters." });
  private urls: [string | null, string | null] = [null, null];

  constructor(private readonly ctx: Ctx) {
    const rangeId = uid("compare-range");
    this.range = h("input", {
      class: "iw-compare-range",
      attrs: { id: rangeId, type: "range", min: 0, max: 100, step: 1, value: 50, "aria-valuetext": "50% A" },
    });
    this.sliderView = h("div", { class: "iw-compare-slider" }, [
      this.stage,
      h("div", { class: "iw-compare-range-row" }, [h("label", { text: "A/B position", attrs: { for: rangeId } }), this.range]),
    ]);
    const th = (text: string): HTMLElement => h("th", { text, attrs: { scope: "col" } });
    this.diffTable = h("table", { class: "iw-compare-diff" }, [
      h("caption", { text: "Differing parameters" }),
      h("thead", {}, [h("tr", {}, [th("Parameter"), th("A"), th("B")])]),
      this.diffBody,
    ]);
    const headId = uid("compare");
    this.el = h(
      "section",
      { class: "iw-compare", attrs: { "aria-labelledby": headId, tabindex: -1, "data-role": "compare", "data-mode": "side" } },
      [
        h("div", { class: "iw-section-head iw-compare-head" }, [
          h("h3", { text: "Compare", attrs: { id: headId } }),
          h("div", { class: "iw-seg", attrs: { role: "group", "aria-label": "Compare view" } }, [this.sideBtn, this.sliderBtn]),
          h("span", { class: "iw-toolbar-gap" }),
          this.closeBtn,
        ]),
        this.status,
        this.sideView,
        this.sliderView,
        this.diffTable,
        this.same,
      ],
    );
    this.el.hidden = true;
    this.diffTable.hidden = true;
    this.same.hidden = true;
    this.setMode("side");
    this.setPosition();
    ctx.listen(this.sideBtn, "click", () => this.setMode("side"));
    ctx.listen(this.sliderBtn, "click", () => this.setMode("slider"));
    ctx.listen(this.range, "input", () => this.setPosition());
    ctx.listen(this.range, "change", () => this.setPosition());
    this.dragOnStage();
  }

  /** Press or drag on the picture itself to move the divider (the range below stays the keyboard's). */
  private dragOnStage(): void {
    const { ctx, stage } = this;
    let dragging: number | null = null;
    const follow = (e: PointerEvent): void => {
      const box = stage.getBoundingClientRect();
      if (!box.width) return;
      this.range.value = String(Math.round((100 * (e.clientX - box.left)) / box.width));
      this.setPosition();
    };
    ctx.listen<PointerEvent>(stage, "pointerdown", (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      dragging = e.pointerId;
      stage.setPointerCapture?.(e.pointerId);
      follow(e);
    });
    ctx.listen<PointerEvent>(stage, "pointermove", (e) => {
      if (e.pointerId === dragging) follow(e);
    });
    const end = (e: PointerEvent): void => {
      if (e.pointerId !== dragging) return;
      dragging = null;
      this.range.dispatchEvent(new Event("change", { bubbles: true }));
    };
    ctx.listen<PointerEvent>(stage, "pointerup", end);
    ctx.listen<PointerEvent>(stage, "pointercancel", end);
  }

  private setMode(mode: CompareMode): void {
    this.el.dataset.mode = mode;
    this.sideBtn.setAttribute("aria-pressed", String(mode === "side"));
    this.sliderBtn.setAttribute("aria-pressed", String(mode === "slider"));
    this.sideView.hidden = mode !== "side";
    this.sliderView.hidden = mode !== "slider";
  }

  private setPosition(): void {
    const v = Math.min(100, Math.max(0, Number(this.range.value) || 0));
    this.over.style.clipPath = `inset(0 ${100 - v}% 0 0)`;
    this.divider.style.left = `${v}%`;
    this.range.setAttribute("aria-valuetext", `${v}% A`);
  }

  /** Show these object URLs (null: none) and revoke the ones they replace. */
  setImages(a: string | null, b: string | null): void {
    const old = this.urls;
    this.urls = [a, b];
    for (const [img, url] of [[this.a.img, a], [this.over, a], [this.b.img, b], [this.under, b]] as const) {
      if (url) img.src = url;
      else img.removeAttribute("src");
    }
    for (const url of old) if (url && url !== a && url !== b) this.ctx.revoke(url);
  }

  /** Captions of both sides and the slider stage's aspect ratio (A's size, when known). */
  describe(a: Caption, b: Caption, width: number | null | undefined, height: number | null | undefined): void {
    this.a.caption(a);
    this.b.caption(b);
    this.over.alt = this.a.img.alt;
    this.under.alt = this.b.img.alt;
    if (width && height) this.stage.style.aspectRatio = `${width} / ${height}`;
    else this.stage.style.removeProperty("aspect-ratio");
  }

  /** The state while the reply is awaited: no table, `data-full="0"`, the pair's ids on the panel. */
  loading(ids: [string, string]): void {
    this.diffBody.replaceChildren();
    this.diffTable.hidden = true;
    this.same.hidden = true;
    this.el.dataset.full = "0";
    this.el.dataset.a = ids[0];
    this.el.dataset.b = ids[1];
    this.status.textContent = "Loading both images…";
  }

  failed(why: string): void {
    this.status.textContent = `Cannot compare: ${why}`;
    this.el.dataset.full = "0";
  }

  /** The full images are shown: the table of differences, `data-full="1"`. */
  loaded(diffs: CompareDifference[]): void {
    this.diffBody.replaceChildren(
      ...diffs.map((d) =>
        h("tr", { attrs: { "data-param": String(d.param) } }, [
          h("th", { text: String(d.param), attrs: { scope: "row" } }),
          h("td", { text: cell(d.a), attrs: { "data-side": "a" } }),
          h("td", { text: cell(d.b), attrs: { "data-side": "b" } }),
        ]),
      ),
    );
    this.diffTable.hidden = diffs.length === 0;
    this.same.hidden = diffs.length !== 0;
    this.status.textContent = "";
    this.el.dataset.full = "1";
  }

  /** Closed: no images, no rows. */
  clear(): void {
    this.setImages(null, null);
    this.diffBody.replaceChildren();
  }
}
