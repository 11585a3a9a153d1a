// Input images: file picker, drag-and-drop onto the widget, paste; thumbnails from `inputs` with
// remove and move buttons. Files travel as raw message buffers, each message under 8 MiB; bigger files
// go in `add_input_chunk` pieces (PROTOCOL.md).

import { button, h, problemSlot, randomId, showProblem, toBytes, uid } from "./dom";
import type { Ctx, InputItem, View } from "./model";

/** Protocol limit per message is 8 MiB; leave room for the JSON header. */
export const MESSAGE_LIMIT = 8 * 1024 * 1024;
const BATCH_LIMIT = MESSAGE_LIMIT - 256 * 1024;
export const CHUNK_SIZE = 4 * 1024 * 1024;
const ACCEPT = "image/png,image/jpeg,image/webp,image/gif,image/*";

export interface InputsView extends View {
  section: HTMLElement;
}

function isImageFile(f: File): boolean {
  return f.type === "" || f.type.startsWith("image/");
}

export function createInputs(ctx: Ctx): InputsView {
  const fileInput = h("input", {
    class: "iw-file",
    attrs: { type: "file", multiple: true, accept: ACCEPT, "aria-label": "Choose image files", tabindex: -1 },
  });
  fileInput.hidden = true;
  const pick = button("Add images…", { class: "iw-add", attrs: { "data-action": "add-inputs" } });
  const countEl = h("span", { class: "iw-input-count", attrs: { "data-role": "input-count" } });
  const hint = h("span", { class: "iw-hint", text: "or drop / paste images onto the widget" });
  const list = h("ol", { class: "iw-thumbs", attrs: { "aria-label": "Input images" } });
  const problem = problemSlot("image");
  const headingId = uid("inputs");
  const section = h("section", { class: "iw-inputs", attrs: { "aria-labelledby": headingId } }, [
    h("div", { class: "iw-section-head" }, [
      h("h3", { text: "Input images", attrs: { id: headingId } }),
      countEl,
      pick,
      hint,
      fileInput,
    ]),
    list,
    problem,
  ]);

  // ------------------------------------------------------------------------------------ upload
  const upload = async (files: File[]): Promise<void> => {
    const images = files.filter(isImageFile);
    const skipped = files.length - images.length;
    if (skipped) ctx.notice(`${skipped} file${skipped > 1 ? "s are" : " is"} not an image and was skipped`, "warning");
    let names: string[] = [];
    let buffers: ArrayBuffer[] = [];
    let size = 0;
    const flush = (): void => {
      if (names.length) ctx.send({ type: "add_inputs", names }, buffers);
      names = [];
      buffers = [];
      size = 0;
    };
    for (const file of images) {
      const name = file.name || "pasted-image";
      if (file.size > BATCH_LIMIT) {
        flush();
        const total = Math.max(1, Math.ceil(file.size / CHUNK_SIZE));
        const uploadId = randomId("upload");
        for (let index = 0; index < total; index++) {
          const piece = await file.slice(index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE).arrayBuffer();
          if (ctx.disposed) return;
          ctx.send({ type: "add_input_chunk", upload_id: uploadId, index, total, name }, [piece]);
        }
        continue;
      }
      if (size + file.size > BATCH_LIMIT) flush();
      const data = await file.arrayBuffer();
      if (ctx.disposed) return;
      names.push(name);
      buffers.push(data);
      size += data.byteLength;
    }
    flush();
  };
  const uploadAll = (files: Iterable<File> | ArrayLike<File>): void => {
    const arr = Array.from(files);
    if (arr.length) {
      upload(arr).catch((err: unknown) => ctx.notice(`Could not read the file: ${String(err)}`, "warning"));
    }
  };

  ctx.listen(pick, "click", () => fileInput.click());
  ctx.listen(fileInput, "change", () => {
    if (fileInput.files) uploadAll(fileInput.files);
    fileInput.value = "";
  });

  // Drag-and-drop anywhere on the widget.
  const hasFiles = (e: DragEvent): boolean => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files");
  let dragDepth = 0;
  ctx.listen<DragEvent>(ctx.root, "dragenter", (e) => {
    if (!hasFiles(e)) return;
    dragDepth += 1;
    ctx.root.classList.add("iw-dragging");
  });
  ctx.listen<DragEvent>(ctx.root, "dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
  });
  ctx.listen<DragEvent>(ctx.root, "dragleave", (e) => {
    if (!hasFiles(e)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) ctx.root.classList.remove("iw-dragging");
  });
  ctx.listen<DragEvent>(ctx.root, "drop", (e) => {
    dragDepth = 0;
    ctx.root.classList.remove("iw-dragging");
    if (!e.dataTransfer || !hasFiles(e)) return;
    e.preventDefault();
    uploadAll(e.dataTransfer.files);
  });

  // Paste: only while focus is inside the widget, and only when the clipboard holds image files
  // (a text paste into the prompt stays a text paste).
  ctx.listen<ClipboardEvent>(ctx.root, "paste", (e) => {
    if (!ctx.root.contains(document.activeElement)) return;
    const files = Array.from(e.clipboardData?.files ?? []).filter((f) => f.type.startsWith("image/"));
    if (!files.length) return;
    e.preventDefault();
    uploadAll(files);
  });

  // ------------------------------------------------------------------------------- thumbnails
  let urls: string[] = [];
  /** Focus to restore after a re-render caused by our own move/remove (keyboard users). */
  let refocus: { id: string; action: string } | null = null;

  let lastInputs: unknown = null;
  const render = (): void => {
    const inputs = ctx.list("inputs");
    const changed = ctx.model.get("inputs") !== lastInputs;
    lastInputs = ctx.model.get("inputs");
    const max = ctx.caps().max_input_images;
    countEl.textContent = max ? `${inputs.length} / ${max}` : String(inputs.length);
    countEl.classList.toggle("iw-over", !!max && inputs.length > max);
    countEl.setAttribute("aria-label", max ? `${inputs.length} of at most ${max} images` : `${inputs.length} images`);
    pick.disabled = !!max && inputs.length >= max;
    pick.title = pick.disabled ? `model takes at most ${max} input image${max === 1 ? "" : "s"}` : "";

    if (changed) {
      const old = urls;
      urls = [];
      list.replaceChildren(...inputs.map((item, index) => thumb(item, index, inputs.length)));
      for (const url of old) ctx.revoke(url);
      list.hidden = inputs.length === 0;
    }

    if (refocus && changed) {
      const target = list.querySelector<HTMLButtonElement>(
        `[data-input-id="${CSS.escape(refocus.id)}"] [data-action="${refocus.action}"]`,
      );
      const fallback = list.querySelector<HTMLButtonElement>("button:not([disabled])") ?? pick;
      (target && !target.disabled ? target : fallback).focus();
      refocus = null;
    }
    showProblem(problem, null, ctx.problems().image);
  };

  const thumb = (item: InputItem, index: number, total: number): HTMLElement => {
    const bytes = toBytes(item.thumb);
    const img = h("img", { attrs: { alt: item.name || `input ${index + 1}`, draggable: "false" } });
    if (bytes.byteLength) {
      const url = ctx.url(bytes);
      urls.push(url);
      img.src = url;
    }
    const name = item.name || `image ${index + 1}`;
    const left = button("◀", { attrs: { "aria-label": `Move ${name} left`, title: "Move left", "data-action": "move-left" } });
    const right = button("▶", { attrs: { "aria-label": `Move ${name} right`, title: "Move right", "data-action": "move-right" } });
    const remove = button("✕", { attrs: { "aria-label": `Remove ${name}`, title: "Remove", "data-action": "remove" } });
    left.disabled = index === 0;
    right.disabled = index === total - 1;
    const dims = item.width && item.height ? `${item.width}×${item.height}` : "";
    return h("li", { class: "iw-thumb", attrs: { "data-input-id": item.id } }, [
      h("div", { class: "iw-thumb-img" }, [img]),
      index === 0 ? h("span", { class: "iw-badge", text: "mask applies here" }) : null,
      h("span", { class: "iw-thumb-name", text: name, attrs: { title: name } }),
      dims ? h("span", { class: "iw-thumb-dims", text: dims }) : null,
      h("div", { class: "iw-thumb-actions" }, [left, right, remove]),
    ]);
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

  ctx.onChange(["inputs", "capabilities", "problems"], render);
  render();

  return { section };
}
