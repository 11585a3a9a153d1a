// The pending-batch line: done / total, failures only when there are some, the estimate and the state.

import { describe, expect, it } from "vitest";
import { type BatchItem, batchLine } from "../views/batches";

const item: BatchItem = {
  run_id: "r1", template: "a {animal}", state: "in progress", done: 3, failed: 0, total: 8,
  estimate: "$0.434 (Batch API price)", created: "2026-11-29T12:00:00+00:00",
};

describe("batchLine", () => {
  it("says done of total, the estimate and the state", () => {
    expect(batchLine(item)).toBe("3 / 8 done · est. $0.434 (Batch API price) · in progress");
  });
  it("names failures when some lines failed", () => {
    expect(batchLine({ ...item, failed: 2 })).toBe("3 / 8 done, 2 failed · est. $0.434 (Batch API price) · in progress");
  });
});
