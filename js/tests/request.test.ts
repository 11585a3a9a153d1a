// Ctx.request: the one request/reply path (fetch_image → image, compare → compare).

import { describe, expect, it } from "vitest";
import { fakeCtx } from "./fake-model";

/** A DataView over `bytes` that starts inside a bigger buffer, as ipywidgets may deliver it. */
function offsetView(bytes: number[]): DataView {
  const buf = new ArrayBuffer(bytes.length + 10);
  new Uint8Array(buf).set(bytes, 3);
  return new DataView(buf, 3, bytes.length);
}

const settled = async <T>(p: Promise<T>): Promise<"pending" | "resolved" | "rejected"> =>
  Promise.race([
    p.then(() => "resolved" as const, () => "rejected" as const),
    new Promise<"pending">((r) => setTimeout(() => r("pending"), 10)),
  ]);

describe("Ctx.request", () => {
  it("sends the command with a fresh request_id and resolves with the matching reply", async () => {
    const { model, ctx } = fakeCtx();
    const answer = ctx.request({ type: "fetch_image", id: "img-1" }, { tag: "view" });
    expect(model.sent).toHaveLength(1);
    const sent = model.sent[0]?.msg as { type: string; id: string; request_id: string };
    expect(sent.type).toBe("fetch_image");
    expect(sent.id).toBe("img-1");
    expect(sent.request_id).toMatch(/^view-/);

    model.reply({ type: "image", id: "img-1", request_id: sent.request_id, mime: "image/png" }, [offsetView([1, 2, 3])]);
    const { reply, buffers } = await answer;
    expect(reply).toEqual({ type: "image", id: "img-1", request_id: sent.request_id, mime: "image/png" });
    expect(buffers).toHaveLength(1);
    expect(Array.from(buffers[0] as Uint8Array)).toEqual([1, 2, 3]);
  });

  it("ignores replies for other ids, replies of the wrong type, and notices", async () => {
    const { model, ctx } = fakeCtx();
    const answer = ctx.request({ type: "compare", ids: ["a", "b"] });
    const id = (model.sent[0]?.msg as { request_id: string }).request_id;
    expect(id).toMatch(/^compare-/);
    model.reply({ type: "compare", request_id: "someone-else" });
    model.reply({ type: "image", id: "a", request_id: id });
    model.reply({ type: "notice", message: "hello" });
    expect(await settled(answer)).toBe("pending");
    model.reply({ type: "compare", request_id: id, items: [], error: "gone" });
    expect((await answer).reply.error).toBe("gone");
  });

  it("each reply settles its own request once; two requests in flight do not mix", async () => {
    const { model, ctx } = fakeCtx();
    const first = ctx.request({ type: "fetch_image", id: "x" });
    const second = ctx.request({ type: "fetch_image", id: "y" });
    const [a, b] = model.sent.map((s) => (s.msg as { request_id: string }).request_id);
    expect(a).not.toBe(b);
    model.reply({ type: "image", id: "y", request_id: b });
    model.reply({ type: "image", id: "y", request_id: b, error: "again" });
    expect((await second).reply.error).toBeUndefined();
    expect(await settled(first)).toBe("pending");
    model.reply({ type: "image", id: "x", request_id: a });
    expect((await first).reply.id).toBe("x");
  });

  it("an aborted request rejects with AbortError and its late reply reaches nobody", async () => {
    const { model, ctx } = fakeCtx();
    const abort = new AbortController();
    const answer = ctx.request({ type: "fetch_image", id: "x" }, { signal: abort.signal });
    const id = (model.sent[0]?.msg as { request_id: string }).request_id;
    abort.abort();
    await expect(answer).rejects.toMatchObject({ name: "AbortError" });
    model.reply({ type: "image", id: "x", request_id: id }); // no throw, nothing pending

    const already = ctx.request({ type: "fetch_image", id: "y" }, { signal: abort.signal });
    await expect(already).rejects.toMatchObject({ name: "AbortError" });
    expect(model.sent).toHaveLength(1);
  });

  it("dispose rejects what is pending, removes the handler and sends nothing more", async () => {
    const { model, ctx } = fakeCtx();
    const answer = ctx.request({ type: "compare", ids: ["a", "b"] });
    expect(model.handlerCount()).toBe(1);
    ctx.dispose();
    await expect(answer).rejects.toMatchObject({ name: "AbortError" });
    expect(model.handlerCount()).toBe(0);
    await expect(ctx.request({ type: "fetch_image", id: "z" })).rejects.toMatchObject({ name: "AbortError" });
    expect(model.sent).toHaveLength(1);
  });
});
