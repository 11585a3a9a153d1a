// The 1-bit mask PNG: decoded by an independent reader (the platform's DecompressionStream + the PNG layout), every pixel is the
// bit it was packed from, the padding bits of a row never leak into the next, and the chunks are well formed.

import { describe, expect, it } from "vitest";
import { encodeMask1Bit, packRows } from "../mask/png1";
import { MaskRaster } from "../mask/raster";

function chunks(png: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out = new Map<string, Uint8Array>();
  for (let at = 8; at < png.length; ) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    out.set(type, png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  return out;
}

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("1-bit mask PNG", () => {
  it("packs 1 = edit as palette index 0 (transparent) and keeps rows apart", () => {
    const raw = packRows(Uint8Array.from([1, 0, 0, 1, 0, 0, 0, 0, 0, 1, /* row 2 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 10, 2);
    expect(Array.from(raw)).toEqual([0, 0b01101111, 0b10000000, 0, 0b11111111, 0b11000000]);
  });

  it("decodes back to the painted raster with an independent inflate", async () => {
    const r = new MaskRaster(37, 23);
    r.segment(3, 3, 30, 20, 5, 1, []);
    r.rect(20, 1, 36, 8, 1, []);
    const png = await encodeMask1Bit(r.bits, 37, 23);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const c = chunks(png);
    const ihdr = new DataView(c.get("IHDR")!.buffer, c.get("IHDR")!.byteOffset);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), ihdr.getUint8(8), ihdr.getUint8(9)]).toEqual([37, 23, 1, 3]);
    expect(Array.from(c.get("tRNS")!)).toEqual([0, 255]);
    expect(c.has("IEND")).toBe(true);
    const raw = await inflate(c.get("IDAT")!);
    const stride = 5;
    for (let y = 0; y < 23; y++) {
      for (let x = 0; x < 37; x++) {
        const keep = (raw[y * (stride + 1) + 1 + (x >> 3)]! >> (7 - (x & 7))) & 1;
        expect(keep).toBe(r.bits[y * 37 + x] ? 0 : 1);
      }
    }
  });
});
