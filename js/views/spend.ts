// The small spend view: a closed <details> at the end of the header row (no line of its own, so the wide
// layout still fits one screen) — what this folder's runs cost by model (billed apart from emulator runs)
// and, in a classroom, the session budget left. Hidden until there is something to show. Plain texts
// from the kernel's `spend` trait (widget/spend_view.py); nothing is computed here.

import type { Ctx, View } from "../ctx";
import { h } from "../dom";
import type { Spend } from "../protocol";
import "./spend.css";

/** The closed view's one line: the folder's total and, in a classroom, the budget left (the header
 * already shows this session's spend). */
export function spendSummary(s: Spend): string {
  const total = `Folder spend: ${s.total_text ?? "$0.000"}`;
  return s.budget_text ? `${total} · ${s.budget_text}` : total;
}

export function renderSpend(ctx: Ctx): View {
  const summary = h("summary", { attrs: { "data-role": "spend-summary" } });
  const body = h("tbody");
  const table = h("table", { class: "iw-spend-table" }, [
    h("thead", {}, [h("tr", {}, ["Model", "Kind", "Images", "Cost"].map((t) => h("th", { text: t })))]),
    body,
  ]);
  const el = h("details", { class: "iw-spend", attrs: { "data-role": "spend" } }, [summary, table]);

  const render = (): void => {
    const s: Spend = ctx.model.get("spend") ?? {};
    const rows = s.rows ?? [];
    summary.textContent = spendSummary(s);
    el.hidden = rows.length === 0 && !s.budget_text;
    body.replaceChildren(
      ...rows.map((r) =>
        h("tr", {}, [r.model, r.kind, String(r.images), r.cost_text].map((t) => h("td", { text: t }))),
      ),
    );
    table.hidden = rows.length === 0;
  };
  ctx.onChange(["spend"], render);
  render();
  return { el, cleanup: () => undefined };
}
