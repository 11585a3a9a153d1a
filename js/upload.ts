// Getting image files to the kernel: as raw message buffers, batched so each message stays under the
// protocol's 8 MiB limit, and bigger files in `add_input_chunk` pieces (docs/PROTOCOL.md). Also the
// drop and paste targets that feed it.

import { randomId } from "./bytes";
import type { Ctx } from "./ctx";

/** Protocol limit per message is 8 MiB; leave room for the JSON header. */
export const MESSAGE_LIMIT = 8 * 1024 * 1024;
const BATCH_LIMIT = MESSAGE_LIMIT - 256 * 1024;
export const CHUNK_SIZE = 4 * 1024 * 1024;

function isImageFile(f: File): boolean {
  return f.type === "" || f.type.startsWith("image/");
}

/** "notes.txt is not an image (PNG, JPEG or WebP)" — files the picker or a drop gave that are not images. */
export function notImages(names: string[]): string {
  const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}` : names[0];
  return `${list} ${names.length > 1 ? "are not images" : "is not an image"} (PNG, JPEG or WebP)`;
}

/** Collects small files into one `add_inputs` message until the next would pass the limit. */
class Batch {
  private names: string[] = [];
  private buffers: ArrayBuffer[] = [];
  private size = 0;

  constructor(private readonly ctx: Ctx) {}

  fits(bytes: number): boolean {
    return this.size + bytes <= BATCH_LIMIT;
  }

  add(name: string, data: ArrayBuffer): void {
    this.names.push(name);
    this.buffers.push(data);
    this.size += data.byteLength;
  }

  flush(): void {
    if (this.names.length) this.ctx.send({ type: "add_inputs", names: this.names }, this.buffers);
    this.names = [];
    this.buffers = [];
    this.size = 0;
  }
}

async function sendChunked(ctx: Ctx, file: File, name: string): Promise<boolean> {
  const total = Math.max(1, Math.ceil(file.size / CHUNK_SIZE));
  const uploadId = randomId("upload");
  for (let index = 0; index < total; index++) {
    const piece = await file.slice(index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE).arrayBuffer();
    if (ctx.disposed) return false;
    ctx.send({ type: "add_input_chunk", upload_id: uploadId, index, total, name }, [piece]);
  }
  return true;
}

/** Send `files` (see uploadFiles); resolves when the last message is sent. */
export async function upload(ctx: Ctx, files: File[]): Promise<void> {
  const images = files.filter(isImageFile);
  const skipped = files.filter((f) => !isImageFile(f)).map((f) => f.name || "the pasted file");
  if (skipped.length) ctx.notice(notImages(skipped), "warning");
  const batch = new Batch(ctx);
  for (const file of images) {
    const name = file.name || "pasted-image";
    if (file.size > BATCH_LIMIT) {
      batch.flush();
      if (!(await sendChunked(ctx, file, name))) return;
      continue;
    }
    if (!batch.fits(file.size)) batch.flush();
    const data = await file.arrayBuffer();
    if (ctx.disposed) return;
    batch.add(name, data);
  }
  batch.flush();
}

/** Send files to the kernel as input images (non-images are skipped with a notice). */
export function uploadFiles(ctx: Ctx, files: Iterable<File> | ArrayLike<File>): void {
  const arr = Array.from(files);
  if (arr.length) {
    upload(ctx, arr).catch((err: unknown) => ctx.notice(`Could not read the file: ${String(err)}`, "warning"));
  }
}

/**
 * Files dropped anywhere on the widget (the root gets `iw-dragging` while files are over it), and
 * image files pasted while focus is inside it (a text paste into the prompt stays a text paste).
 */
export function acceptFiles(ctx: Ctx): void {
  const root = ctx.root;
  const hasFiles = (e: DragEvent): boolean => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files");
  let depth = 0;
  ctx.listen<DragEvent>(root, "dragenter", (e) => {
    if (!hasFiles(e)) return;
    depth += 1;
    root.classList.add("iw-dragging");
  });
  ctx.listen<DragEvent>(root, "dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
  });
  ctx.listen<DragEvent>(root, "dragleave", (e) => {
    if (!hasFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) root.classList.remove("iw-dragging");
  });
  ctx.listen<DragEvent>(root, "drop", (e) => {
    depth = 0;
    root.classList.remove("iw-dragging");
    if (!e.dataTransfer || !hasFiles(e)) return;
    e.preventDefault();
    uploadFiles(ctx, e.dataTransfer.files);
  });
  ctx.listen<ClipboardEvent>(root, "paste", (e) => {
    if (!root.contains(document.activeElement)) return;
    const files = Array.from(e.clipboardData?.files ?? []).filter((f) => f.type.startsWith("image/"));
    if (!files.length) return;
    e.preventDefault();
    uploadFiles(ctx, files);
  });
}
