// Full-resolution images stay in the kernel until asked for: `fetch_image` → one `image` reply with
// the bytes in its single buffer (or none and an `error`). Used by the lightbox and by downloads.

import { imageMime } from "../bytes";
import type { Ctx } from "../ctx";
import { ignoreAbort } from "../ctx";
import { h } from "../dom";
import { flash, unflash } from "./flash";

export type FullImage = { bytes: Uint8Array; mime: string; why?: undefined } | { why: string };

const EXT: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "image/gif": "gif",
  "image/svg+xml": "svg",
};

/** Ask the kernel for image `id`; rejects with an AbortError when `signal` aborts or the view goes. */
export async function fetchFullImage(
  ctx: Ctx,
  id: string,
  opts: { signal?: AbortSignal; tag: string },
): Promise<FullImage> {
  const { reply, buffers } = await ctx.request({ type: "fetch_image", id }, opts);
  const bytes = buffers[0];
  if (!bytes || !bytes.byteLength) {
    return { why: reply.error ? `The full image is not available: ${reply.error}` : "The full image is not available." };
  }
  // Trust the reply's mime only when it names an image type; otherwise look at the bytes.
  return { bytes, mime: imageMime(reply.mime, bytes) };
}

/**
 * Fetch the full image and hand it to the browser as a download named `<id>.<ext>`. The button that
 * asked says "Preparing…" until then (or "Not available", with the reason as a notice).
 */
export function downloadImage(ctx: Ctx, id: string, format: string | undefined, btn: HTMLButtonElement): void {
  flash(ctx, btn, { label: "Preparing…", state: "preparing", ms: null });
  fetchFullImage(ctx, id, { tag: "download" }).then((image) => {
    if (image.why !== undefined) {
      flash(ctx, btn, { label: "Not available", state: "failed", ms: 4000 });
      ctx.notice(image.why, "warning");
      return;
    }
    unflash(ctx, btn);
    const url = ctx.url(image.bytes, image.mime);
    const a = h("a", { attrs: { href: url, download: `${id}.${EXT[image.mime] ?? format ?? "png"}` } });
    a.hidden = true;
    ctx.root.append(a);
    a.click();
    a.remove();
    // Give the browser time to start the download before the URL goes.
    ctx.timeout(() => ctx.revoke(url), 10_000);
  }, ignoreAbort);
}
