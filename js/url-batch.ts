// Object URLs for a list that is drawn again and again (thumbnails): each drawing's URLs, revoked only
// once the next drawing is in place.

import type { Ctx } from "./ctx";

/**
 * The object URLs of one rendering of a list: `render` builds the new DOM with fresh URLs and only
 * then revokes the previous rendering's, so an image never loses its source while still shown.
 */
export class UrlBatch {
  private urls: string[] = [];

  constructor(private readonly ctx: Ctx) {}

  render(build: (url: (bytes: Uint8Array) => string) => void): void {
    const old = this.urls;
    this.urls = [];
    build((bytes) => {
      const url = this.ctx.url(bytes);
      this.urls.push(url);
      return url;
    });
    for (const url of old) this.ctx.revoke(url);
  }
}
