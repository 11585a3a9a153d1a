// "Add by URL or file id": an image on the web (https) or already uploaded to OpenAI (file-…) as an input.
// The kernel reads it once (for its thumbnail and the checks before a paid edit) and the edit then names it
// by reference in OpenAI's JSON form, never uploading it again. Answered like an upload (`upload_progress`).

import { randomId } from "../bytes";
import type { Ctx } from "../ctx";
import { button, h, uid } from "../dom";
import type { UploadWatcher } from "../upload";

const REF = /^(https?:\/\/\S+|file-[A-Za-z0-9_-]{4,})$/;

export function renderAddRef(ctx: Ctx, watcher: UploadWatcher, beforeUpload: () => void): HTMLElement {
  const id = uid("ref");
  const field = h("input", {
    class: "iw-ref-input",
    attrs: { id, type: "text", placeholder: "https://… or file-…", spellcheck: "false", autocomplete: "off" },
  }) as HTMLInputElement;
  const add = button("Add", { class: "iw-ref-add", attrs: { "data-action": "add-ref" } });
  const form = h("form", { class: "iw-ref", attrs: { "data-role": "add-ref" } }, [
    h("label", { text: "Add by URL or file id", attrs: { for: id } }),
    field,
    add,
  ]);
  const sync = (): void => {
    add.disabled = !REF.test(field.value.trim());
    field.setAttribute("aria-invalid", field.value.trim() && add.disabled ? "true" : "false");
  };
  ctx.listen(field, "input", sync);
  ctx.listen<SubmitEvent>(form, "submit", (e) => {
    e.preventDefault();
    const ref = field.value.trim();
    if (!REF.test(ref)) return;
    beforeUpload();
    const uploadId = randomId("upload");
    watcher.begin(0, 1, []);
    watcher.expect(uploadId, [ref]);
    ctx.send({ type: "add_refs", refs: [ref], upload_id: uploadId });
    field.value = "";
    sync();
  });
  sync();
  return form;
}
