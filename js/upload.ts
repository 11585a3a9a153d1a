// Getting image files to the kernel: as raw message buffers, batched so each message stays under the
// protocol's 8 MiB limit, and bigger files in `add_input_chunk` pieces (docs/PROTOCOL.md). Also the
// drop and paste targets that feed it. With a watcher (the inputs view's progress line) every message
// carries an `upload_id`, which the kernel answers with `upload_progress`.

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

/** Follows an upload: what is sent, under which ids (views/upload-status.ts shows it). */
export interface UploadWatcher {
  /** A new upload of `files` images, `bytes` in all; `problems` names the files refused before sending. */
  begin(bytes: number, files: number, problems: string[]): void;
  /** A message went out whose last answer (`done`) will carry this id, for these files. */
  expect(uploadId: string, names: string[]): void;
  /** Something went wrong in the page (a file could not be read). */
  fail(problem: string): void;
}

/** Collects small files into one `add_inputs` message until the next would pass the limit. */
class Batch {
  private names: string[] = [];
  private buffers: ArrayBuffer[] = [];
  private size = 0;

  constructor(
    private readonly ctx: Ctx,
    private readonly watcher?: UploadWatcher,
  ) {}

  fits(bytes: number): boolean {
    return this.size + bytes <= BATCH_LIMIT;
  }

  add(name: string, data: ArrayBuffer): void {
    this.names.push(name);
    this.buffers.push(data);
    this.size += data.byteLength;
  }

  flush(): void {
    if (this.names.length && this.watcher) {
      const uploadId = randomId("upload");
      this.watcher.expect(uploadId, this.names);
      this.ctx.send({ type: "add_inputs", names: this.names, upload_id: uploadId }, this.buffers);
    } else if (this.names.length) this.ctx.send({ type: "add_inputs", names: this.names }, this.buffers);
    this.names = [];
    this.buffers = [];
    this.size = 0;
  }
}

async function sendChunked(ctx: Ctx, file: File, name: string, watcher?: UploadWatcher): Promise<boolean> {
  const total = Math.max(1, Math.ceil(file.size / CHUNK_SIZE));
  const uploadId = randomId("upload");
  watcher?.expect(uploadId, [name]);
  for (let index = 0; index < total; index++) {
    const piece = await file.slice(index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE).arrayBuffer();
    if (ctx.disposed) return false;
    ctx.send({ type: "add_input_chunk", upload_id: uploadId, index, total, name }, [piece]);
  }
  return true;
}

/** Send `files` (see uploadFiles); resolves when the last message is sent. */
export async function upload(ctx: Ctx, files: File[], watcher?: UploadWatcher): Promise<void> {
  const images = files.filter(isImageFile);
  const skipped = files.filter((f) => !isImageFile(f)).map((f) => f.name || "the pasted file");
  const refused = skipped.length ? [notImages(skipped)] : [];
  if (watcher) watcher.begin(images.reduce((n, f) => n + f.size, 0), images.length, refused);
  else if (refused.length) ctx.notice(refused[0]!, "warning");
  const batch = new Batch(ctx, watcher);
  for (const file of images) {
    const name = file.name || "pasted-image";
    if (file.size > BATCH_LIMIT) {
      batch.flush();
      if (!(await sendChunked(ctx, file, name, watcher))) return;
      continue;
    }
    if (!batch.fits(file.size)) batch.flush();
    const data = await file.arrayBuffer();
    if (ctx.disposed) return;
    batch.add(name, data);
  }
  batch.flush();
}

/** Send files to the kernel as input images (non-images are skipped and named). */
export function uploadFiles(ctx: Ctx, files: Iterable<File> | ArrayLike<File>, watcher?: UploadWatcher): void {
  const arr = Array.from(files);
  if (arr.length) {
    upload(ctx, arr, watcher).catch((err: unknown) => {
      const text = `Could not read the file: ${String(err)}`;
      if (watcher) watcher.fail(text);
      else ctx.notice(text, "warning");
    });
  }
}

/**
 * Files dropped anywhere on the widget (the root gets `iw-dragging` while files are over it), and
 * image files pasted while focus is inside it (a text paste into the prompt stays a text paste).
 */
export function acceptFiles(ctx: Ctx, watcher?: UploadWatcher, before: () => void = () => undefined): void {
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
    before();
    uploadFiles(ctx, e.dataTransfer.files, watcher);
  });
  ctx.listen<ClipboardEvent>(root, "paste", (e) => {
    if (!root.contains(document.activeElement)) return;
    const files = Array.from(e.clipboardData?.files ?? []).filter((f) => f.type.startsWith("image/"));
    if (!files.length) return;
    e.preventDefault();
    before();
    uploadFiles(ctx, files, watcher);
  });
}
