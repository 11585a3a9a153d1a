// Uploads: small files batched into `add_inputs` messages under the 8 MiB limit, big files in
// `add_input_chunk` pieces, non-images skipped with a warning.

import { describe, expect, it } from "vitest";
import { CHUNK_SIZE, MESSAGE_LIMIT, upload, type UploadWatcher } from "../upload";
import { sizeText } from "../views/upload-status";
import { fakeCtx } from "./fake-model";

const MiB = 1024 * 1024;

function file(name: string, size: number, type = "image/png", fill = 1): File {
  return new File([new Uint8Array(size).fill(fill)], name, { type });
}

function notices(ctx: ReturnType<typeof fakeCtx>["ctx"]): [string, string][] {
  const seen: [string, string][] = [];
  ctx.setNoticeSink((m, level) => seen.push([m, level]));
  return seen;
}

describe("upload", () => {
  it("sends small images together in one add_inputs message, bytes as buffers", async () => {
    const { model, ctx } = fakeCtx();
    await upload(ctx, [file("a.png", 10, "image/png", 7), file("", 20, "image/jpeg", 8)]);
    expect(model.sent).toHaveLength(1);
    expect(model.sent[0]?.msg).toEqual({ type: "add_inputs", names: ["a.png", "pasted-image"] });
    const buffers = model.sent[0]?.buffers.map((b) => new Uint8Array(b)) ?? [];
    expect(buffers.map((b) => b.length)).toEqual([10, 20]);
    expect(buffers[0]?.every((v) => v === 7)).toBe(true);
    expect(buffers[1]?.every((v) => v === 8)).toBe(true);
  });

  it("starts a new message before one would pass the limit", async () => {
    const { model, ctx } = fakeCtx();
    await upload(ctx, [file("a.png", 3 * MiB), file("b.png", 3 * MiB), file("c.png", 3 * MiB)]);
    expect(model.sent.map((s) => s.msg)).toEqual([
      { type: "add_inputs", names: ["a.png", "b.png"] },
      { type: "add_inputs", names: ["c.png"] },
    ]);
    for (const s of model.sent) {
      expect(s.buffers.reduce((n, b) => n + b.byteLength, 0)).toBeLessThan(MESSAGE_LIMIT);
    }
  });

  it("sends a file too big for one message in numbered chunks", async () => {
    const { model, ctx } = fakeCtx();
    const size = 2 * CHUNK_SIZE + 5;
    await upload(ctx, [file("small.png", 4), file("big.png", size)]);
    const [small, ...chunks] = model.sent;
    expect(small?.msg).toEqual({ type: "add_inputs", names: ["small.png"] });
    expect(chunks).toHaveLength(3);
    const uploadId = (chunks[0]?.msg as { upload_id: string }).upload_id;
    chunks.forEach((c, index) => {
      expect(c.msg).toEqual({ type: "add_input_chunk", upload_id: uploadId, index, total: 3, name: "big.png" });
    });
    expect(chunks.map((c) => c.buffers[0]?.byteLength)).toEqual([CHUNK_SIZE, CHUNK_SIZE, 5]);
  });

  it("skips files that are not images, with a warning that names them", async () => {
    const { model, ctx } = fakeCtx();
    const seen = notices(ctx);
    await upload(ctx, [file("notes.txt", 5, "text/plain"), file("x.webp", 5, "image/webp")]);
    // issue 14 item 9: the file is named in plain words (was "1 file is not an image and was skipped")
    expect(seen).toEqual([["notes.txt is not an image (PNG, JPEG or WebP)", "warning"]]);
    expect(model.sent.map((s) => s.msg)).toEqual([{ type: "add_inputs", names: ["x.webp"] }]);
  });

  it("stops when the view goes away mid-upload", async () => {
    const { model, ctx } = fakeCtx();
    const pending = upload(ctx, [file("a.png", 10), file("b.png", 10)]);
    ctx.dispose();
    await pending;
    expect(model.sent).toEqual([]);
  });

  it("with a watcher, gives every message an upload_id and says what it expects", async () => {
    const { model, ctx } = fakeCtx();
    const seen: unknown[][] = [];
    const watcher: UploadWatcher = {
      begin: (...args) => seen.push(["begin", ...args]),
      expect: (...args) => seen.push(["expect", ...args]),
      fail: (...args) => seen.push(["fail", ...args]),
    };
    await upload(ctx, [file("a.png", 4), file("big.png", MESSAGE_LIMIT + 1), file("n.txt", 3, "text/plain")], watcher);
    const ids = model.sent.map((s) => (s.msg as { upload_id: string }).upload_id);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(2); // one for the batch, one shared by the chunks
    expect(seen[0]).toEqual(["begin", MESSAGE_LIMIT + 5, 2, ["n.txt is not an image (PNG, JPEG or WebP)"]]);
    expect(seen.slice(1)).toEqual([
      ["expect", ids[0], ["a.png"]],
      ["expect", ids[1], ["big.png"]],
    ]);
    expect(ids.slice(1)).toEqual([ids[1], ids[1], ids[1]]); // 8 MiB + 1 in three chunks
  });
});

describe("sizeText", () => {
  it("counts in the unit and precision of the total", () => {
    expect(sizeText(12 * MiB, 36 * MiB)).toBe("12 / 36 MB");
    expect(sizeText(0.4 * MiB, 2.5 * MiB)).toBe("0.4 / 2.5 MB");
    expect(sizeText(120 * 1024, 800 * 1024)).toBe("120 / 800 KB");
  });
});
