// Short-lived notices: the kernel's `notice` messages and the views' own (`ctx.notice`), at most a few
// at a time, each gone after a while. They sit in the flow under the Generate row, where the person
// looks after acting (most come from Generate or an upload), never over the results or the history.
// A view confirms an action on its own control instead when it can (views/flash.ts).

import type { Ctx, Level, View } from "../ctx";
import { h } from "../dom";

const NOTICE_MS = 6000;
const MAX_NOTICES = 4;

export function renderNotices(ctx: Ctx): View {
  const el = h("div", { class: "iw-notices", attrs: { "aria-live": "polite", "data-role": "notices" } });
  const add = (text: string, level: Level): void => {
    const item = h("div", { class: `iw-notice iw-notice-${level}`, text, attrs: { role: level === "warning" ? "alert" : "status" } });
    el.append(item);
    while (el.childElementCount > MAX_NOTICES) el.firstElementChild?.remove();
    ctx.timeout(() => item.remove(), NOTICE_MS);
  };
  ctx.setNoticeSink(add);
  ctx.onMessage((msg) => {
    if (msg && msg.type === "notice" && msg.message) add(String(msg.message), msg.level === "warning" ? "warning" : "info");
  });
  return { el, cleanup: () => undefined };
}
