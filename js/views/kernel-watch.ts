// A kernel that does not answer (restarted through the REST API from another tab or script, culled by
// JupyterHub, or busy with a long cell): nothing throws on the page and ipywidgets says nothing, so a click
// would just do nothing. After each action that needs the kernel the page waits for the kernel's own answer (a
// run that started or ended); without one within `ASK_AFTER_MS` it asks for a `pong`, and without that
// within `answer_timeout_ms` it says so and disables the controls that cannot work. A late answer (it was
// only busy) brings everything back. (Asking at once put a ping and its three answers in front of every run's
// first messages: ~5–10 ms of a click's way to the screen on 2 cores, issue 22.)

import { randomId } from "../bytes";
import type { Ctx, View } from "../ctx";
import { h } from "../dom";
import type { Reply } from "../protocol";
import { STILL_WORKS } from "./kernel";

export const UNANSWERED_TITLE = "The kernel does not answer";
export const UNANSWERED_TEXT =
  "The kernel does not answer — it may have restarted. Re-run this cell. (If it is only busy running " +
  "another cell, this goes away when it answers.)";
const UNANSWERED_TIP = "The kernel does not answer: re-run the cell that made this widget";
const DEFAULT_TIMEOUT_MS = 6000;
/** How long after an action the kernel's own answer is awaited before a `pong` is asked for. */
export const ASK_AFTER_MS = 300;

export function renderKernelWatch(ctx: Ctx): View {
  const el = h("div", { class: "iw-kernel-lost", attrs: { role: "alert", "data-role": "kernel-unanswered" } }, [
    h("strong", { text: UNANSWERED_TITLE }),
    h("p", { text: UNANSWERED_TEXT }),
  ]);
  el.hidden = true;
  let waitingFor: string | null = null;
  let timer: number | null = null;
  let disabled: { node: HTMLInputElement; title: string }[] = [];
  let listening: number | null = null; // an action awaits the kernel's own answer
  let runBefore = ""; // the run going when the action was made (`ctx.runKey`)

  const unanswered = (): void => {
    if (ctx.lost) return; // the lost-kernel view says it already
    el.hidden = false;
    ctx.root.dataset.kernel = "unanswered";
    for (const node of ctx.root.querySelectorAll<HTMLInputElement>("button, input, select, textarea")) {
      if (node.matches(STILL_WORKS) || node.disabled || el.contains(node)) continue;
      disabled.push({ node, title: node.title });
      node.disabled = true;
      node.title = UNANSWERED_TIP;
    }
  };
  const answered = (): void => {
    waitingFor = null;
    ctx.clearTimeout(timer);
    timer = null;
    if (el.hidden) return;
    el.hidden = true;
    if (ctx.root.dataset.kernel === "unanswered") delete ctx.root.dataset.kernel;
    for (const { node, title } of disabled) {
      node.disabled = false;
      node.title = title;
    }
    disabled = [];
  };
  const ask = (): void => {
    if (waitingFor || ctx.lost) return;
    waitingFor = randomId("ping");
    const limit = Number(ctx.model.get("answer_timeout_ms")) || DEFAULT_TIMEOUT_MS;
    timer = ctx.timeout(unanswered, limit);
    ctx.send({ type: "ping", request_id: waitingFor });
  };

  // Every click or submit inside the widget that needs the kernel (capture: before the view's own handler).
  const onAction = (e: Event): void => {
    const target = e.target as Element | null;
    if (e.type === "click" && !target?.closest("button")) return;
    if (target?.closest(STILL_WORKS) || el.contains(target)) return;
    if (listening !== null) return;
    runBefore = ctx.runKey();
    listening = ctx.timeout(() => {
      listening = null;
      ask();
    }, ASK_AFTER_MS);
  };
  const heard = (): void => {
    ctx.clearTimeout(listening); // the kernel answered the action itself: nothing to ask
    listening = null;
  };
  ctx.listen(ctx.root, "click", onAction, { capture: true });
  ctx.listen(ctx.root, "submit", onAction, { capture: true });
  // A run that started or ended since answers the action (Generate, Cancel); updates of a run under way (previews,
  // its message) do not: the job thread writes them even while a cell holds the main thread, which takes clicks.
  ctx.onChange(["status"], () => {
    if (listening !== null && ctx.runKey() !== runBefore) heard();
  });
  ctx.onMessage((msg: Reply) => {
    if (msg && msg.type === "pong" && msg.request_id === waitingFor) answered();
    else if (msg && msg.type === "pong" && !el.hidden) answered(); // a late answer to an older ask
  });
  return {
    el,
    cleanup: () => {
      ctx.clearTimeout(timer);
      ctx.clearTimeout(listening);
    },
  };
}
