// The spend view's closed line: the folder's total, and the class budget left when there is one.

import { describe, expect, it } from "vitest";
import { spendSummary } from "../views/spend";

describe("spendSummary", () => {
  it("says the folder's total", () => {
    expect(spendSummary({ total_text: "$0.412", session_text: "$0.021" })).toBe("Folder spend: $0.412");
  });
  it("adds the class budget left when there is one", () => {
    expect(spendSummary({ total_text: "$0.412", budget_text: "class budget $1.000 per session, $0.979 left" }))
      .toBe("Folder spend: $0.412 · class budget $1.000 per session, $0.979 left");
  });
});
