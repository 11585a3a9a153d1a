// The error banner for the `error` trait. Dismissing hides that error until a different one arrives.

import type { Ctx, View } from "../ctx";
import { button, h, uid } from "../dom";
import type { ErrorInfo } from "../protocol";

const errorKey = (e: ErrorInfo): string => JSON.stringify([e.title, e.message, e.hint, e.code, e.status]);

export function renderBanner(ctx: Ctx): View {
  const title = h("strong", { class: "iw-banner-title" });
  const message = h("p", { class: "iw-banner-message" });
  const hint = h("p", { class: "iw-banner-hint" });
  const dismiss = button("Dismiss", {
    class: "iw-banner-dismiss",
    attrs: { "data-action": "dismiss", "aria-label": "Dismiss the error" },
  });
  const el = h("div", { class: "iw-banner", attrs: { role: "alert", "data-role": "banner", id: uid("banner") } }, [
    h("div", { class: "iw-banner-text" }, [title, message, hint]),
    dismiss,
  ]);
  el.hidden = true;
  let dismissed: string | null = null;

  const render = (): void => {
    const e = ctx.model.get("error") ?? {};
    const any = !!(e.title || e.message || e.hint);
    if (!any || errorKey(e) !== dismissed) dismissed = null;
    title.textContent = e.title || (any ? "Error" : "");
    message.textContent = e.message ?? "";
    message.hidden = !e.message;
    hint.textContent = e.hint ?? "";
    hint.hidden = !e.hint;
    el.hidden = !any || dismissed !== null;
  };
  ctx.listen(dismiss, "click", () => {
    dismissed = errorKey(ctx.model.get("error") ?? {});
    el.hidden = true;
  });

  ctx.onChange(["error"], render);
  render();
  return { el, cleanup: () => undefined };
}
