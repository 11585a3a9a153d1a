// The Generate ⇄ Cancel button (and Ctrl/Cmd+Enter anywhere in the widget). widget.ts puts the run
// state line in this row too.

import type { Ctx, View } from "../ctx";
import { button, h, setTitle } from "../dom";

export function renderActions(ctx: Ctx, beforeRun: () => void): View {
  const generate = button("Generate", {
    class: "iw-generate iw-primary",
    attrs: { "data-action": "generate", "aria-keyshortcuts": "Control+Enter Meta+Enter" },
  });
  const el = h("div", { class: "iw-actions" }, [generate]);

  const runOrCancel = (): void => {
    if (ctx.running()) {
      ctx.send({ type: "cancel" });
      return;
    }
    beforeRun();
    // Option patches are custom messages too, so they reach the kernel before this one: it runs the prompt
    // just typed (and a change made in Python meanwhile is not overwritten by a copy of the page's options).
    ctx.send({ type: "generate" });
  };
  ctx.listen(generate, "click", runOrCancel);
  ctx.listen<KeyboardEvent>(ctx.root, "keydown", (e) => {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || e.altKey) return;
    e.preventDefault();
    // pressed as the button is, so what watches its clicks (the kernel watch) sees the shortcut too
    if (!ctx.running()) generate.click();
  });

  const sync = (): void => {
    const running = ctx.running();
    generate.textContent = running ? "Cancel" : "Generate";
    generate.dataset.action = running ? "cancel" : "generate";
    generate.classList.toggle("iw-primary", !running);
    generate.classList.toggle("iw-danger", running);
    setTitle(generate, running ? "Cancel the running request" : "Run the current options (Ctrl+Enter)");
  };
  ctx.onChange(["status"], sync);
  sync();
  return { el, cleanup: () => undefined };
}
