// The spend view's closed line: the folder's total and this session's spend, $0.000 before any run.

import { describe, expect, it } from "vitest";
import { spendSummary } from "../views/spend";

describe("spendSummary", () => {
  it("says the folder's total and the session's spend", () => {
    expect(spendSummary({ total_text: "$0.412", session_text: "$0.021" })).toBe(
      "Spend in this folder: $0.412 · this session: $0.021",
    );
  });
  it("reads $0.000 before the kernel has sent anything", () => {
    expect(spendSummary({})).toBe("Spend in this folder: $0.000 · this session: $0.000");
  });
});
