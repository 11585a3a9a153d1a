// Upload progress under the input images: "Adding photo.png — 12 / 36 MB" with a bar, shown once an
// upload takes more than a moment, counted from the kernel's `upload_progress` answers (bytes it has
// received, not bytes the page handed to the socket). Files that could not be added stay listed, by
// name, until the next upload starts.

import type { Ctx } from "../ctx";
import { h } from "../dom";
import type { UploadProgressReply } from "../protocol";
import type { UploadWatcher } from "../upload";

/** Uploads that end sooner show no progress at all. */
export const SHOW_AFTER_MS = 300;

const MIB = 1024 * 1024;

/** "12 / 36 MB", "0.4 / 2.5 MB", "120 / 800 KB": both in the unit and precision that suit the total. */
export function sizeText(done: number, total: number): string {
  if (total < MIB) return `${Math.round(done / 1024)} / ${Math.round(total / 1024)} KB`;
  const digits = total < 10 * MIB ? 1 : 0;
  return `${(done / MIB).toFixed(digits)} / ${(total / MIB).toFixed(digits)} MB`;
}

export class UploadStatus implements UploadWatcher {
  private readonly line = h("span", { class: "iw-upload-line" });
  private readonly bar = h("progress", { class: "iw-upload-bar", attrs: { max: 1, value: 0, "aria-hidden": "true" } });
  private readonly progress = h("p", { class: "iw-upload-progress", attrs: { role: "status" } }, [this.line, this.bar]);
  private readonly list = h("ul", { class: "iw-upload-problems", attrs: { role: "alert", "aria-label": "Files not added" } });
  readonly el = h("div", { class: "iw-upload", attrs: { "data-role": "upload-status" } }, [this.progress, this.list]);
  /** Ids still waiting for their last answer, with their files. */
  private readonly pending = new Map<string, string[]>();
  private total = 0;
  private received = 0;
  private files = 0;
  private filesDone = 0;
  private problems: string[] = [];
  private showing = false;
  private timer: number | null = null;

  constructor(private readonly ctx: Ctx) {
    ctx.onMessage((msg) => {
      if (msg && msg.type === "upload_progress") this.answer(msg);
    });
    this.render();
  }

  begin(bytes: number, files: number, problems: string[]): void {
    if (this.pending.size === 0) {
      this.total = this.received = this.files = this.filesDone = 0;
    }
    this.total += bytes;
    this.files += files;
    this.problems = [...problems]; // a new upload clears what the last one could not add
    if (files > 0 && !this.showing && this.timer === null) {
      this.timer = this.ctx.timeout(() => {
        this.timer = null;
        this.showing = this.pending.size > 0;
        this.render();
      }, SHOW_AFTER_MS);
    }
    this.render();
  }

  expect(uploadId: string, names: string[]): void {
    this.pending.set(uploadId, names);
  }

  fail(problem: string): void {
    this.problems.push(problem);
    this.render();
  }

  /** Stop waiting for answers that cannot come (the widget lost its kernel). */
  abandon(): void {
    this.pending.clear();
    this.stop();
  }

  private answer(msg: UploadProgressReply): void {
    const names = this.pending.get(msg.upload_id);
    if (!names) return; // another view's upload, or one already finished
    this.received = Math.min(this.total, this.received + (Number(msg.received) || 0));
    if (msg.done) {
      this.pending.delete(msg.upload_id);
      this.filesDone += names.length;
      this.problems.push(...(msg.problems ?? []).map(String));
    }
    if (this.pending.size === 0) this.stop();
    else this.render();
  }

  private stop(): void {
    this.ctx.clearTimeout(this.timer);
    this.timer = null;
    this.showing = false;
    this.render();
  }

  private render(): void {
    const busy = this.showing && this.pending.size > 0;
    this.progress.hidden = !busy;
    if (busy) {
      const name = [...this.pending.values()][0]?.[0] ?? "images";
      const count = this.files > 1 ? ` (${Math.min(this.filesDone + 1, this.files)} of ${this.files})` : "";
      this.line.textContent = `Adding ${name}${count} — ${sizeText(this.received, this.total)}`;
      this.bar.max = Math.max(1, this.total);
      this.bar.value = this.received;
    }
    this.list.replaceChildren(...this.problems.map((text) => h("li", { text })));
    this.list.hidden = this.problems.length === 0;
    this.el.hidden = !busy && this.problems.length === 0;
    this.el.dataset.uploading = busy ? "1" : "0";
  }
}
