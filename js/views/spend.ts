// The small spend view: a closed <details> under the header — what this folder's runs cost by model
// (billed apart from emulator runs) and, in a classroom, the session budget left. Plain texts from the
// kernel's `spend` trait (widget/spend_view.py); nothing is computed here.

import type { Ctx, View } from "../ctx";
import { h } from "../dom";
import type { Spend } from "../protocol";
import "./spend.css";

/** The closed view's one line: the folder's total and this session's spend. */
export function spendSummary(s: Spend): string {
  return `Spend in this folder: ${s.total_text ?? "$0.000"} · this session: ${s.session_text ?? "$0.000"}`;
}

export function renderSpend(ctx: Ctx): View {
  const summary = h("summary", { attrs: { "data-role": "spend-summary" } });
  const budget = h("p", { class: "iw-spend-budget", attrs: { "data-role": "spend-budget" } });
  const body = h("tbody");
  const table = h("table", { class: "iw-spend-table" }, [
    h("thead", {}, [h("tr", {}, ["Model", "Kind", "Images", "Cost"].map((t) => h("th", { text: t })))]),
    body,
  ]);
  const el = h("details", { class: "iw-spend", attrs: { "data-role": "spend" } }, [summary, budget, table]);

  const render = (): void => {
    const s: Spend = ctx.model.get("spend") ?? {};
    const rows = s.rows ?? [];
    summary.textContent = spendSummary(s);
    budget.textContent = s.budget_text ?? "";
    budget.hidden = !s.budget_text;
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
