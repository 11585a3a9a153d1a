// Backend label, cost, run state with an elapsed timer, the error banner, live partial previews and
// short-lived notices. All text from the kernel goes in with textContent.

import { button, h, hashBytes, uid } from "./dom";
import type { Ctx, ErrorInfo, Reply, View } from "./model";

const NOTICE_MS = 6000;
const MAX_NOTICES = 4;
const TICK_MS = 100;

export interface StatusView extends View {
  header: HTMLElement;
  state: HTMLElement;
  banner: HTMLElement;
  preview: HTMLElement;
  notices: HTMLElement;
}

export function createStatus(ctx: Ctx): StatusView {
  // ----------------------------------------------------------------------- backend and cost
  const backend = h("span", { class: "iw-backend", attrs: { "data-role": "backend" } });
  const synthetic = h("span", {
    class: "iw-synthetic",
    text: "Offline emulator — images are synthetic",
    attrs: { "data-role": "synthetic" },
  });
  const costEstimate = h("span", { class: "iw-cost-item", attrs: { "data-role": "cost-estimate" } });
  const costLast = h("span", { class: "iw-cost-item", attrs: { "data-role": "cost-last" } });
  const costSession = h("span", { class: "iw-cost-item", attrs: { "data-role": "cost-session" } });
  const cost = h("div", { class: "iw-cost", attrs: { "aria-label": "Cost" } }, [costEstimate, costLast, costSession]);
  const header = h("div", { class: "iw-header" }, [
    h("span", { class: "iw-title", text: "Images" }),
    backend,
    synthetic,
    cost,
  ]);

  const renderBackend = (): void => {
    const b = ctx.model.get("backend") ?? {};
    backend.textContent = b.label || b.kind || "";
    backend.hidden = !backend.textContent;
    backend.dataset.kind = b.kind ?? "";
    synthetic.hidden = !b.synthetic;
  };
  const renderCost = (): void => {
    const c = ctx.model.get("cost") ?? {};
    const put = (el: HTMLElement, label: string, text: string | undefined): void => {
      el.textContent = text ? `${label} ${text}` : "";
      el.hidden = !text;
    };
    put(costEstimate, "Estimate", c.estimate_text);
    put(costLast, "Last", c.last_text);
    put(costSession, "Session", c.session_text);
    cost.hidden = !c.estimate_text && !c.last_text && !c.session_text;
  };

  // ------------------------------------------------------------------------- state and timer
  const message = h("span", { class: "iw-state-message", attrs: { "aria-live": "polite" } });
  const timer = h("span", { class: "iw-timer", attrs: { "data-role": "timer", "aria-hidden": "true" } });
  const state = h("div", { class: "iw-state", attrs: { "data-role": "state" } }, [message, timer]);
  let ticking: number | null = null;
  let startedAt = 0;
  let runKey: string | null = null;

  const tick = (): void => {
    timer.textContent = `${Math.max(0, (Date.now() - startedAt) / 1000).toFixed(1)} s`;
  };
  const stopTimer = (): void => {
    ctx.clearInterval(ticking);
    ticking = null;
  };

  // ------------------------------------------------------------------------------- previews
  const previewImg = h("img", { attrs: { alt: "Partial preview of the image being generated" } });
  const previewCaption = h("figcaption", {});
  const preview = h("figure", { class: "iw-preview", attrs: { "data-role": "preview" } }, [previewImg, previewCaption]);
  preview.hidden = true;
  let previewUrl: string | null = null;
  let seen = new Set<string>();

  const setPreviewCount = (): void => {
    ctx.root.dataset.preview = String(seen.size);
  };
  const clearPreviewImage = (): void => {
    ctx.revoke(previewUrl);
    previewUrl = null;
    previewImg.removeAttribute("src");
    preview.hidden = true;
  };
  const renderPreview = (): void => {
    const bytes = ctx.bytes("preview");
    if (!bytes.byteLength) {
      if (!ctx.running()) clearPreviewImage();
      return;
    }
    const key = hashBytes(bytes);
    if (seen.has(key) && previewUrl) return;
    seen.add(key);
    setPreviewCount();
    const old = previewUrl;
    previewUrl = ctx.url(bytes);
    previewImg.src = previewUrl;
    ctx.revoke(old);
    previewCaption.textContent = `Preview ${seen.size}`;
    preview.hidden = false;
  };

  const renderStatus = (): void => {
    const s = ctx.status();
    ctx.root.dataset.state = s.state;
    const running = s.state === "running";
    const key = running ? `${s.job_id ?? ""}|${s.started_ms ?? ""}` : null;
    if (running && key !== runKey) {
      // A new run: previews count from zero.
      seen = new Set();
      setPreviewCount();
      clearPreviewImage();
      runKey = key;
      renderPreview();
    }
    if (!running) {
      runKey = null;
      clearPreviewImage();
    }
    const labels: Record<string, string> = {
      idle: "",
      running: "Running…",
      done: "Done",
      error: "Failed",
      cancelled: "Cancelled",
    };
    message.textContent = s.message || labels[s.state] || "";
    state.dataset.state = s.state;
    if (running) {
      startedAt = typeof s.started_ms === "number" && s.started_ms > 0 ? s.started_ms : startedAt || Date.now();
      tick();
      if (ticking === null) ticking = ctx.interval(tick, TICK_MS);
    } else {
      stopTimer();
      startedAt = 0;
      timer.textContent = "";
    }
  };

  // ---------------------------------------------------------------------------------- banner
  const bTitle = h("strong", { class: "iw-banner-title" });
  const bMessage = h("p", { class: "iw-banner-message" });
  const bHint = h("p", { class: "iw-banner-hint" });
  const dismiss = button("Dismiss", { class: "iw-banner-dismiss", attrs: { "data-action": "dismiss", "aria-label": "Dismiss the error" } });
  const banner = h("div", { class: "iw-banner", attrs: { role: "alert", "data-role": "banner", id: uid("banner") } }, [
    h("div", { class: "iw-banner-text" }, [bTitle, bMessage, bHint]),
    dismiss,
  ]);
  banner.hidden = true;
  let dismissed: string | null = null;
  const errorKey = (e: ErrorInfo): string => JSON.stringify([e.title, e.message, e.hint, e.code, e.status]);

  const renderError = (): void => {
    const e = ctx.model.get("error") ?? {};
    const any = !!(e.title || e.message || e.hint);
    if (!any || errorKey(e) !== dismissed) dismissed = null;
    bTitle.textContent = e.title || (any ? "Error" : "");
    bMessage.textContent = e.message ?? "";
    bMessage.hidden = !e.message;
    bHint.textContent = e.hint ?? "";
    bHint.hidden = !e.hint;
    banner.hidden = !any || dismissed !== null;
  };
  ctx.listen(dismiss, "click", () => {
    dismissed = errorKey(ctx.model.get("error") ?? {});
    banner.hidden = true;
  });

  // --------------------------------------------------------------------------------- notices
  const notices = h("div", { class: "iw-notices", attrs: { "aria-live": "polite", "data-role": "notices" } });
  const addNotice = (text: string, level: "info" | "warning"): void => {
    const item = h("div", { class: `iw-notice iw-notice-${level}`, text, attrs: { role: level === "warning" ? "alert" : "status" } });
    notices.append(item);
    while (notices.childElementCount > MAX_NOTICES) notices.firstElementChild?.remove();
    ctx.timeout(() => item.remove(), NOTICE_MS);
  };
  ctx.setNoticeSink(addNotice);
  ctx.onMessage((msg: Reply) => {
    if (msg && msg.type === "notice" && msg.message) addNotice(String(msg.message), msg.level === "warning" ? "warning" : "info");
  });

  ctx.onChange(["backend"], renderBackend);
  ctx.onChange(["cost"], renderCost);
  ctx.onChange(["status"], renderStatus);
  ctx.onChange(["preview"], renderPreview);
  ctx.onChange(["error"], renderError);
  renderBackend();
  renderCost();
  setPreviewCount();
  renderStatus();
  renderPreview();
  renderError();

  return {
    header,
    state,
    banner,
    preview,
    notices,
    dispose: stopTimer,
  };
}
