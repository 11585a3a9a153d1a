// The header line: title, backend label (with the emulator's "synthetic" badge) and the cost figures,
// each labelled ("Session: unknown") and never broken inside; with the emulator one note says that
// nothing is billed (the kernel's cost texts are plain amounts).

import type { Ctx, View } from "../ctx";
import { h } from "../dom";

export function renderHeader(ctx: Ctx): View {
  const backend = h("span", { class: "iw-backend", attrs: { "data-role": "backend" } });
  const synthetic = h("span", {
    class: "iw-synthetic",
    text: "Offline emulator — images are synthetic",
    attrs: { "data-role": "synthetic" },
  });
  const costEstimate = h("span", { class: "iw-cost-item", attrs: { "data-role": "cost-estimate" } });
  const costLast = h("span", { class: "iw-cost-item", attrs: { "data-role": "cost-last" } });
  const costSession = h("span", { class: "iw-cost-item", attrs: { "data-role": "cost-session" } });
  const costNote = h("span", {
    class: "iw-cost-item iw-cost-note",
    text: "nothing billed",
    attrs: { "data-role": "cost-note", title: "The offline emulator makes synthetic images; its prices are what OpenAI would charge" },
  });
  const cost = h("div", { class: "iw-cost", attrs: { "aria-label": "Cost" } }, [costEstimate, costLast, costSession, costNote]);
  const el = h("div", { class: "iw-header" }, [h("span", { class: "iw-title", text: "Images" }), backend, synthetic, cost]);

  const renderBackend = (): void => {
    const b = ctx.model.get("backend") ?? {};
    backend.textContent = b.label || b.kind || "";
    backend.hidden = !backend.textContent;
    backend.dataset.kind = b.kind ?? "";
    synthetic.hidden = !b.synthetic;
  };
  const renderCost = (): void => {
    const c = ctx.model.get("cost") ?? {};
    const put = (item: HTMLElement, label: string, text: string | undefined, note?: string): void => {
      item.textContent = text ? `${label} ${text}` : "";
      item.hidden = !text;
      item.title = note ?? "";
    };
    put(costEstimate, "Estimate:", c.estimate_text, c.estimate_note);
    put(costLast, "Last run:", c.last_text, c.last_note);
    put(costSession, "Session:", c.session_text);
    cost.hidden = !c.estimate_text && !c.last_text && !c.session_text;
    costNote.hidden = !ctx.model.get("backend")?.synthetic;
  };

  ctx.onChange(["backend"], renderBackend);
  ctx.onChange(["backend"], renderCost);
  ctx.onChange(["cost"], renderCost);
  renderBackend();
  renderCost();
  return { el, cleanup: () => undefined };
}
