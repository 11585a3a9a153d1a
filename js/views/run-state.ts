// The run state next to the Generate button: the status message and an elapsed-time counter that
// ticks while a run is going (from the kernel's `started_ms`, so a re-rendered view counts on).

import type { Ctx, View } from "../ctx";
import { h } from "../dom";

const TICK_MS = 100;
const LABELS: Record<string, string> = {
  idle: "",
  running: "Running…",
  done: "Done",
  error: "Failed",
  cancelled: "Cancelled",
};

export function renderRunState(ctx: Ctx): View {
  const message = h("span", { class: "iw-state-message", attrs: { "aria-live": "polite" } });
  const timer = h("span", { class: "iw-timer", attrs: { "data-role": "timer", "aria-hidden": "true" } });
  const el = h("div", { class: "iw-state", attrs: { "data-role": "state" } }, [message, timer]);
  let ticking: number | null = null;
  let startedAt = 0;

  const tick = (): void => {
    timer.textContent = `${Math.max(0, (Date.now() - startedAt) / 1000).toFixed(1)} s`;
  };
  const stopTimer = (): void => {
    ctx.clearInterval(ticking);
    ticking = null;
  };

  const render = (): void => {
    const s = ctx.status();
    ctx.root.dataset.state = s.state;
    message.textContent = s.message || LABELS[s.state] || "";
    el.dataset.state = s.state;
    if (s.state === "running") {
      startedAt = typeof s.started_ms === "number" && s.started_ms > 0 ? s.started_ms : startedAt || Date.now();
      tick();
      if (ticking === null) ticking = ctx.interval(tick, TICK_MS);
    } else {
      stopTimer();
      startedAt = 0;
      timer.textContent = "";
    }
  };

  ctx.onChange(["status"], render);
  ctx.onLost(() => {
    stopTimer();
    timer.textContent = "";
    message.textContent = "No kernel — re-run the cell";
    el.dataset.state = "lost";
  });
  render();
  return { el, cleanup: stopTimer };
}
