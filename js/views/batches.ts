// Pending batch sweeps, just above the history: prompt template, done / total, estimated cost, state.
// The kernel keeps them current only while a view shows some, so this view says when it does (a
// `batches_view` message when the list becomes non-empty, every HEARTBEAT_MS while it is, and
// `shown: false` when it empties or at cleanup); when a batch ends, its images are saved into the
// folder, where the history finds them, and it leaves this list. With no pending batch it sends nothing.
// Its types live here (not in protocol.ts) so the history strip's protocol stays untouched.

import "./batches.css";
import type { Command } from "../protocol";
import type { Ctx, View } from "../ctx";
import { h, uid } from "../dom";

/** One item of the `batches` trait (widget/batches.py `BatchSweep.summary`). */
export interface BatchItem {
  run_id: string;
  template: string;
  state: string;
  done: number;
  failed: number;
  total: number;
  estimate: string;
  created: string;
  /** Set for a sweep whose submit failed: the kernel never sends it on its own; how to resume or drop it. */
  hint?: string;
}

interface BatchesView {
  type: "batches_view";
  view_id: string;
  shown: boolean;
}

const HEARTBEAT_MS = 5000; // widget/batches.py HEARTBEAT_S

export function batchLine(item: BatchItem): string {
  const failed = item.failed ? `, ${item.failed} failed` : "";
  return `${item.done} / ${item.total} done${failed} · est. ${item.estimate} · ${item.state}`;
}

export function renderBatches(ctx: Ctx): View {
  const viewId = uid("batches");
  const headId = uid("batches-head");
  const list = h("ul", { class: "iw-batches-list" });
  const el = h("section", { class: "iw-batches", attrs: { "aria-labelledby": headId, "data-count": "0" } }, [
    h("div", { class: "iw-section-head" }, [h("h3", { text: "Pending batches", attrs: { id: headId } })]),
    list,
  ]);
  let shown = false;
  const say = (now: boolean): void => {
    shown = now;
    const msg: BatchesView = { type: "batches_view", view_id: viewId, shown: now };
    ctx.send(msg as unknown as Command); // a message of this view's own (see the header)
  };
  const current = (): BatchItem[] => (ctx.model.get("batches") as BatchItem[] | undefined) ?? [];
  const draw = (): void => {
    const pending = current();
    if (pending.length > 0 !== shown) say(pending.length > 0);
    render(pending);
  };
  const render = (items: BatchItem[]): void => {
    el.dataset.count = String(items.length);
    el.hidden = items.length === 0;
    list.replaceChildren(
      ...items.map((item) => {
        const bar = h("progress", { attrs: { max: String(Math.max(item.total, 1)), value: String(item.done + item.failed) } });
        bar.setAttribute("aria-label", `${item.template}: ${batchLine(item)}`);
        return h("li", { class: "iw-batch", attrs: { "data-run": item.run_id, "data-state": item.state } }, [
          h("span", { class: "iw-batch-template", text: item.template }),
          bar,
          h("span", { class: "iw-batch-line", text: batchLine(item) }),
          ...(item.hint ? [h("code", { class: "iw-batch-hint", text: item.hint })] : []),
        ]);
      }),
    );
  };
  ctx.onChange(["batches"], draw);
  draw();
  const beat = ctx.interval(() => {
    if (shown) say(true);
  }, HEARTBEAT_MS);
  return {
    el,
    cleanup: () => {
      ctx.clearInterval(beat);
      if (shown) say(false);
    },
  };
}
