// The history strip: one button per earlier run; choosing a run shows its thumbnails, each opening the
// lightbox.

import { toBytes } from "../bytes";
import { type Ctx, UrlBatch, type View } from "../ctx";
import { h, shortDate, thumbImg, uid } from "../dom";
import type { HistoryRun } from "../protocol";
import type { Lightbox } from "./lightbox";

function runLabel(run: HistoryRun): string {
  const n = run.items?.length ?? 0;
  return [`${n} image${n === 1 ? "" : "s"}`, run.model, shortDate(run.created)].filter(Boolean).join(" · ");
}

export function renderHistory(ctx: Ctx, lightbox: Lightbox): View {
  const headId = uid("history");
  const runsList = h("ol", { class: "iw-history-runs", attrs: { "aria-label": "Earlier runs" } });
  const thumbs = h("ol", { class: "iw-history-thumbs", attrs: { "aria-label": "Images of the selected run" } });
  thumbs.id = uid("history-thumbs");
  const el = h("section", { class: "iw-history", attrs: { "aria-labelledby": headId } }, [
    h("div", { class: "iw-section-head" }, [h("h3", { text: "History", attrs: { id: headId } })]),
    runsList,
    thumbs,
  ]);
  const urls = new UrlBatch(ctx);
  let selected: string | null = null;

  const runButton = (run: HistoryRun): HTMLElement =>
    h("li", {}, [
      h("button", {
        class: "iw-history-run",
        attrs: {
          type: "button",
          "data-run-id": run.run_id,
          "aria-expanded": String(run.run_id === selected),
          "aria-controls": thumbs.id,
          title: run.prompt ?? "",
        },
      }, [
        h("span", { class: "iw-history-prompt", text: run.prompt || "(no prompt)" }),
        h("span", { class: "iw-history-meta", text: runLabel(run) }),
      ]),
    ]);

  const thumbButton = (run: HistoryRun, item: HistoryRun["items"][number], index: number, url: (b: Uint8Array) => string): HTMLElement => {
    const img = thumbImg(toBytes(item.thumb), { alt: `${run.prompt ?? "image"} (${index + 1})`, draggable: "false" }, url);
    return h("li", {}, [
      h("button", {
        class: "iw-history-thumb",
        attrs: { type: "button", "data-item-id": item.id, "aria-label": `Enlarge image ${index + 1} of this run` },
      }, [img]),
    ]);
  };

  const render = (): void => {
    const runs = ctx.list("history");
    if (selected && !runs.some((r) => r.run_id === selected)) selected = null;
    const run = runs.find((r) => r.run_id === selected);
    urls.render((url) => {
      runsList.replaceChildren(...runs.map(runButton));
      thumbs.replaceChildren(...(run ? (run.items ?? []).map((item, i) => thumbButton(run, item, i, url)) : []));
    });
    thumbs.hidden = !run;
    el.hidden = runs.length === 0;
  };

  ctx.listen<MouseEvent>(el, "click", (e) => {
    const target = e.target as Element | null;
    const runBtn = target?.closest<HTMLButtonElement>("button[data-run-id]");
    if (runBtn) {
      const id = runBtn.dataset.runId ?? null;
      selected = selected === id ? null : id;
      render();
      runsList.querySelector<HTMLButtonElement>(`button[data-run-id="${CSS.escape(id ?? "")}"]`)?.focus();
      return;
    }
    const thumbBtn = target?.closest<HTMLButtonElement>("button[data-item-id]");
    if (!thumbBtn) return;
    const run = ctx.list("history").find((r) => r.run_id === selected);
    const item = run?.items.find((i) => i.id === thumbBtn.dataset.itemId);
    if (run && item) {
      lightbox.open({ id: item.id, thumb: toBytes(item.thumb), title: run.prompt ?? "", detail: runLabel(run) }, thumbBtn);
    }
  });

  ctx.onChange(["history"], render);
  render();
  return { el, cleanup: () => undefined };
}
