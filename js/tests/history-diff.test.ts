// History diffs (issue 22, item 1): a new run arrives as itself; the page's list ends up as the kernel's.
import { describe, expect, it } from "vitest";
import { applyHistoryDiff } from "../history-list";
import type { HistoryRun } from "../protocol";

const run = (id: string, items = 1): HistoryRun => ({
  run_id: id, prompt: id, items: Array.from({ length: items }, (_, i) => ({ id: `${id}-${i}`, thumb: new Uint8Array([i]) })),
});

describe("applyHistoryDiff", () => {
  it("puts added runs at their index, replaces changed ones and drops removed ones", () => {
    const before = [run("b"), run("c"), run("d")];
    const thumbs = [new Uint8Array([7]), new Uint8Array([8]), new Uint8Array([9])];
    const after = applyHistoryDiff(before, {
      type: "history_diff",
      removed: ["d"],
      added: [{ index: 0, run: { run_id: "a", prompt: "a", items: [{ id: "a-0", thumb: 0 }] } }],
      changed: [{ index: 2, run: { run_id: "c", prompt: "c", items: [{ id: "c-0", thumb: 1 }, { id: "c-1", thumb: 2 }] } }],
    }, thumbs);
    expect(after.map((r) => r.run_id)).toEqual(["a", "b", "c"]);
    expect(after[0].items[0].thumb).toEqual(new Uint8Array([7]));
    expect(after[2].items.map((i) => i.id)).toEqual(["c-0", "c-1"]);
    expect(before.map((r) => r.run_id)).toEqual(["b", "c", "d"]); // the trait's own list is left alone
  });
});
