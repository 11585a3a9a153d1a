// Input images: the file picker, drop and paste (upload.ts), and thumbnails from `inputs` with move and
// remove buttons. After our own move/remove re-renders the list, focus goes back to the same button.

import { toBytes } from "../bytes";
import type { Ctx, View } from "../ctx";
import { UrlBatch } from "../url-batch";
import { button, h, thumbImg, uid } from "../dom";
import { problemSlot, showProblem } from "../problems";
import type { InputItem } from "../protocol";
import { acceptFiles, uploadFiles } from "../upload";
import { renderAddRef } from "./add-ref";
import { UploadStatus } from "./upload-status";

const ACCEPT = "image/png,image/jpeg,image/webp,image/gif,image/*";

function thumb(item: InputItem, index: number, total: number, url: (b: Uint8Array) => string,
               editing: boolean): HTMLElement {
  const img = thumbImg(toBytes(item.thumb), { alt: item.name || `input ${index + 1}`, draggable: "false" }, url);
  const name = item.name || `image ${index + 1}`;
  const left = button("◀", { attrs: { "aria-label": `Move ${name} left`, title: "Move left", "data-action": "move-left" } });
  const right = button("▶", { attrs: { "aria-label": `Move ${name} right`, title: "Move right", "data-action": "move-right" } });
  const remove = button("✕", { attrs: { "aria-label": `Remove ${name}`, title: "Remove", "data-action": "remove" } });
  left.disabled = index === 0;
  right.disabled = index === total - 1;
  const dims = item.width && item.height ? `${item.width}×${item.height}` : "";
  return h("li", { class: "iw-thumb", attrs: { "data-input-id": item.id } }, [
    h("div", { class: "iw-thumb-img" }, [img]),
    index === 0 && editing ? h("span", { class: "iw-badge", text: "mask applies here" }) : null, // Edit only
    h("span", { class: "iw-thumb-name", text: name, attrs: { title: name } }),
    dims ? h("span", { class: "iw-thumb-dims", text: dims }) : null,
    h("div", { class: "iw-thumb-actions" }, [left, right, remove]),
  ]);
}

export interface InputsView extends View {
  /** The upload progress line (the kernel view stops it when the kernel is gone). */
  uploads: UploadStatus;
}

/**
 * `beforeUpload` sends what the page still holds back (the prompt's debounced write) ahead of the files: the
 * kernel switches to Edit when the first image arrives, and an `options` write made before that, arriving
 * after it, would switch it back.
 */
export function renderInputs(ctx: Ctx, beforeUpload: () => void = () => undefined): InputsView {
  const fileInput = h("input", {
    class: "iw-file",
    attrs: { type: "file", multiple: true, accept: ACCEPT, "aria-label": "Choose image files", tabindex: -1 },
  });
  fileInput.hidden = true;
  const pick = button("Add images…", { class: "iw-add", attrs: { "data-action": "add-inputs" } });
  const countEl = h("span", { class: "iw-input-count", attrs: { "data-role": "input-count" } });
  const list = h("ol", { class: "iw-thumbs", attrs: { "aria-label": "Input images" } });
  const problem = problemSlot("image");
  const uploads = new UploadStatus(ctx);
  const headingId = uid("inputs");
  const el = h("section", { class: "iw-inputs", attrs: { "aria-labelledby": headingId } }, [
    h("div", { class: "iw-section-head" }, [
      h("h3", { text: "Input images", attrs: { id: headingId } }),
      countEl,
      pick,
      h("span", { class: "iw-hint", text: "or drop / paste images onto the widget" }),
      fileInput,
    ]),
    renderAddRef(ctx, uploads, beforeUpload),
    uploads.el,
    list,
    problem,
  ]);

  ctx.listen(pick, "click", () => fileInput.click());
  ctx.listen(fileInput, "change", () => {
    if (fileInput.files) {
      beforeUpload();
      uploadFiles(ctx, fileInput.files, uploads);
    }
    fileInput.value = "";
  });
  acceptFiles(ctx, uploads, beforeUpload);

  const urls = new UrlBatch(ctx);
  /** Focus to restore after a re-render caused by our own move/remove (keyboard users). */
  let refocus: { id: string; action: string } | null = null;
  let lastInputs: unknown = null;
  let lastEditing: boolean | null = null;

  const restoreFocus = (): void => {
    if (!refocus) return;
    const target = list.querySelector<HTMLButtonElement>(
      `[data-input-id="${CSS.escape(refocus.id)}"] [data-action="${refocus.action}"]`,
    );
    const fallback = list.querySelector<HTMLButtonElement>("button:not([disabled])") ?? pick;
    (target && !target.disabled ? target : fallback).focus();
    refocus = null;
  };

  const render = (): void => {
    const inputs = ctx.list("inputs");
    const editing = ctx.options().mode === "edit";
    const changed = ctx.model.get("inputs") !== lastInputs || editing !== lastEditing;
    lastInputs = ctx.model.get("inputs");
    lastEditing = editing;
    const max = ctx.caps().max_input_images;
    countEl.textContent = max ? `${inputs.length} / ${max}` : String(inputs.length);
    countEl.classList.toggle("iw-over", !!max && inputs.length > max);
    countEl.setAttribute("aria-label", max ? `${inputs.length} of at most ${max} images` : `${inputs.length} images`);
    pick.disabled = !!max && inputs.length >= max;
    pick.title = pick.disabled ? `model takes at most ${max} input image${max === 1 ? "" : "s"}` : "";

    if (changed) {
      urls.render((url) =>
        list.replaceChildren(...inputs.map((item, i) => thumb(item, i, inputs.length, url, editing))));
      list.hidden = inputs.length === 0;
      restoreFocus();
    }
    showProblem(problem, null, ctx.problems().image);
  };

  // One delegated listener for every thumbnail button (thumbnails are rebuilt on each change).
  ctx.listen<MouseEvent>(list, "click", (e) => {
    const btn = (e.target as Element | null)?.closest<HTMLButtonElement>("button[data-action]");
    const li = btn?.closest<HTMLElement>("[data-input-id]");
    if (!btn || !li || btn.disabled) return;
    const inputs = ctx.list("inputs");
    const id = li.dataset.inputId ?? "";
    const index = inputs.findIndex((item) => item.id === id);
    if (index < 0) return;
    const last = inputs.length - 1;
    if (btn.dataset.action === "move-left" && index > 0) {
      refocus = { id, action: index - 1 === 0 ? "move-right" : "move-left" };
      ctx.send({ type: "move_input", id, to: index - 1 });
    } else if (btn.dataset.action === "move-right" && index < last) {
      refocus = { id, action: index + 1 === last ? "move-left" : "move-right" };
      ctx.send({ type: "move_input", id, to: index + 1 });
    } else if (btn.dataset.action === "remove") {
      refocus = { id: "", action: "remove" };
      ctx.send({ type: "remove_input", id });
    }
  });

  ctx.onChange(["inputs", "capabilities", "problems", "options"], render);
  render();
  return { el, uploads, cleanup: () => undefined };
}
