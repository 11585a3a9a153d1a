// Options go to the kernel as patches of the keys that changed (issue 22, item 1): the page never sends the
// whole dict, shows its own change at once, and after the kernel's answer shows the kernel's options again.
import { describe, expect, it } from "vitest";
import { fakeCtx } from "./fake-model";

describe("options patches", () => {
  it("sends only the changed keys, numbered, and shows them until the kernel applied them", () => {
    const { model, ctx } = fakeCtx();
    model.set("options", { prompt: "", quality: "low", n: 1 });
    ctx.setOptions({ quality: "high" });
    ctx.setOptions({ prompt: "a fox" });
    expect(model.sent.map((s) => s.msg)).toEqual([
      { type: "options_patch", seq: 1, view: expect.any(String), changes: { quality: "high" } },
      { type: "options_patch", seq: 2, view: expect.any(String), changes: { prompt: "a fox" } },
    ]);
    expect(ctx.options()).toEqual({ prompt: "a fox", quality: "high", n: 1 });
    // Python changed n meanwhile; the kernel applied the first patch only
    model.set("options", { prompt: "", quality: "high", n: 3 });
    model.reply({ type: "options_applied", seq: 1 });
    expect(ctx.options()).toEqual({ prompt: "a fox", quality: "high", n: 3 });
    model.set("options", { prompt: "a fox", quality: "high", n: 3 });
    model.reply({ type: "options_applied", seq: 2 });
    expect(ctx.options()).toEqual({ prompt: "a fox", quality: "high", n: 3 });
  });

  it("redraws from the kernel's options when it changed a patch (same key: the kernel's last word wins)", () => {
    const { model, ctx } = fakeCtx();
    model.set("options", { quality: "low" });
    let redraws = 0;
    ctx.onChange(["options"], () => redraws++);
    ctx.setOptions({ quality: "medium" });
    expect(ctx.options().quality).toBe("medium");
    model.reply({ type: "options_applied", seq: 1 }); // applied, then a later Python write set it back
    expect(redraws).toBe(1);
    expect(ctx.options().quality).toBe("low");
  });

  it("keeps its own change shown when another view of the widget gets its patch applied", () => {
    const { model, ctx } = fakeCtx();
    model.set("options", { quality: "low", n: 1 });
    ctx.setOptions({ quality: "high" }); // this view's patch 1, not applied yet
    const mine = (model.sent[0]?.msg as { view: string }).view;
    model.set("options", { quality: "low", n: 2 }); // another view's patch 1 (n) applied first
    model.reply({ type: "options_applied", seq: 1, view: "options-another-view" });
    expect(ctx.options()).toEqual({ quality: "high", n: 2 });
    model.set("options", { quality: "high", n: 2 });
    model.reply({ type: "options_applied", seq: 1, view: mine });
    expect(ctx.options()).toEqual({ quality: "high", n: 2 });
  });
});
