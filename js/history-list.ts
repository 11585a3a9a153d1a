// The runs the history strip (and compare) list: the `history` trait as the kernel last sent it whole (a page,
// a search), with the `history_diff` messages applied since — a new run arrives as itself, not as the whole
// strip again (widget/history_diff.py). A whole send replaces what the diffs built (it already holds them).

import { toBytes } from "./bytes";
import type { Ctx } from "./ctx";
import type { HistoryDiff, HistoryRun, Reply } from "./protocol";

/** `runs` with `diff` applied: removed and changed runs out, then changed and added ones in at their index. */
export function applyHistoryDiff(runs: HistoryRun[], diff: HistoryDiff, buffers: Uint8Array[]): HistoryRun[] {
  const incoming = [...diff.changed, ...diff.added].sort((a, b) => a.index - b.index);
  const replaced = new Set([...diff.removed, ...incoming.map((e) => e.run.run_id)]);
  const out = runs.filter((r) => !replaced.has(r.run_id));
  for (const { index, run } of incoming) {
    const items = run.items.map((item) => ({ id: item.id, thumb: buffers[item.thumb] ?? new Uint8Array() }));
    out.splice(Math.min(index, out.length), 0, { ...run, items });
  }
  return out;
}

export class HistoryList {
  private local: HistoryRun[] | null = null;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly ctx: Ctx) {
    ctx.onChange(["history"], () => {
      this.local = null; // registered before the views: they redraw from the whole list
    });
    ctx.onMessage((msg: Reply, buffers: DataView[]) => {
      if (!msg || msg.type !== "history_diff") return;
      this.local = applyHistoryDiff(this.runs(), msg, (buffers ?? []).map(toBytes));
      for (const fn of this.listeners) fn();
    });
  }

  runs(): HistoryRun[] {
    return this.local ?? this.ctx.list("history");
  }

  /** Call `fn` after each diff (a whole send is a `change:history`, which views follow themselves). */
  onDiff(fn: () => void): void {
    this.listeners.push(fn);
  }
}
